import Foundation
import Engine
import ModelIO
import TestSupport
import Testing

/// The `gradient` projection of a unit of the default model (EfficientNet-Lite0: stride-2 and
/// depthwise convolutions with ReLU6 fused in, residual Adds) is the derivative of the unit with
/// respect to the input pixels, checked against central finite differences of the engine's own
/// forward pass.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: defaultModelPath), "Assets/models/efficientnet-lite0.onnx is absent"))
struct DefaultModelProjectionTests {
    /// A smooth image in normalized units: per channel, a sum of low-frequency plane waves.
    static func smoothImage(channels: Int, height: Int, width: Int, seed: UInt64) -> [Float] {
        var g = SplitMix64(seed: seed)
        var out = [Float](repeating: 0, count: channels * height * width)
        for c in 0..<channels {
            for _ in 0..<6 {
                let fy = Float.random(in: -5...5, using: &g) * 2 * .pi / Float(height)
                let fx = Float.random(in: -5...5, using: &g) * 2 * .pi / Float(width)
                let phase = Float.random(in: 0..<(2 * .pi), using: &g)
                let amp = Float.random(in: 0.1...0.35, using: &g)
                for y in 0..<height {
                    for x in 0..<width { out[(c * height + y) * width + x] += amp * sin(fy * Float(y) + fx * Float(x) + phase) }
                }
            }
        }
        return out
    }

    /// Unit: the largest activation of blk09_add (a residual Add, 112×14×14) with a position seed;
    /// input: a smooth random image. Checked at the 10 input elements where the projection is
    /// largest and at 6 random ones where it is at least 1% of that.
    ///
    /// The network below the unit is piecewise linear in the input (convolutions, Adds, ReLU6), so
    /// the finite difference equals the derivative exactly when the step crosses no kink: no ReLU6
    /// input the unit depends on (one whose output the projection reached) leaves or enters
    /// (0, 6). Positions where the step crosses one are skipped; they are measured, not guessed
    /// (every such ReLU6 input is compared). Steps of 3e-3 and more cross kinks at the steepest
    /// pixels (the finite differences there fall 35% and more short of the derivative, and shrink
    /// further as the step grows), so the step is 2.5e-4 in normalized input units. Kinks are
    /// dense even then: about three positions in four cross one, so at least a quarter must
    /// remain, one of them among the three largest derivatives. What remains is float32 rounding:
    /// the unit (about 30) is computed through some 40 layers, so the two evaluations differ by
    /// rounding of the order of 1e-5·30, which over a span of 5e-4 is under 1% of the largest
    /// derivative (about 14). The tolerance is 3% of the largest checked derivative plus 2% of the
    /// derivative itself.
    ///
    /// The tolerance is tight enough to reject plausible wrong answers, which the test checks too:
    /// the projection without the residual Add's skip term (the branch alone), and the projection
    /// shifted by one pixel (a transposed convolution off by one row).
    @Test func gradientOfAResidualUnitMatchesFiniteDifferences() throws {
        let model = try ModelLoader.load(path: defaultModelPath)
        let full = model.graph
        let target = try #require(full.value(named: "blk09_add"))
        // Only the part below the unit runs in the finite differences (the projection is the same,
        // as the planning tests show), so each evaluation costs a partial forward pass.
        let graph = try subgraph(full, upTo: target)
        let inShape = graph.values[graph.input].shape
        let (channels, height, width) = (inShape[1], inShape[2], inShape[3])
        let input = Self.smoothImage(channels: channels, height: height, width: width, seed: 9)
        let harness = ProjectionHarness(graph: graph, input: input, threads: 2)
        let unitValue = harness.value("blk09_add")
        let shape = graph.values[unitValue].shape
        let act = harness.activations(unitValue)
        let best = try #require(act.indices.max { act[$0] < act[$1] })
        let plane = shape[2] * shape[3]
        let (channel, y, x) = (best / plane, (best % plane) / shape[3], best % shape[3])
        #expect(act[best] > 1, "the strongest unit of blk09_add is \(act[best])")
        let projection = try harness.project(unitValue, channel: channel, at: (y: y, x: x), mode: .gradient)

        // The sample: the largest derivatives, and random ones that are not negligible.
        let order = projection.indices.sorted { abs(projection[$0]) > abs(projection[$1]) }
        let largest = abs(projection[order[0]])
        #expect(largest > 0)
        var rng = SplitMix64(seed: 3)
        let notNegligible = order.prefix { abs(projection[$0]) >= 0.01 * largest }
        var positions = Array(order.prefix(10))
        while positions.count < 16 {
            let p = notNegligible.randomElement(using: &rng)!
            if !positions.contains(p) { positions.append(p) }
        }
        // The rectifier inputs the unit depends on: those whose output received a gradient.
        let clips = graph.nodes.filter { if case .clip = $0.op { return true } else { return false } }
        let relevant = clips.map { node in harness.projector.gradient(node.output).indices.filter { harness.projector.gradient(node.output)[$0] != 0 } }
        let decisions = { () -> [UInt8] in
            var out: [UInt8] = []
            for (node, indices) in zip(clips, relevant) {
                guard case .clip(let lo, let hi) = node.op else { continue }
                let x = harness.network.buffer(node.inputs[0])
                for i in indices { out.append(x[i] <= lo ? 0 : (x[i] >= hi ? 2 : 1)) }
            }
            return out
        }
        let reference = decisions()
        let step: Float = 2.5e-4
        var checked: [(position: Int, numeric: Float)] = []
        for p in positions {
            var moved = input
            moved[p] = input[p] + step
            harness.forward(moved)
            let up = Double(harness.network.buffer(unitValue)[best])
            let upSame = decisions() == reference
            moved[p] = input[p] - step
            harness.forward(moved)
            let down = Double(harness.network.buffer(unitValue)[best])
            let downSame = decisions() == reference
            // The step actually taken, in float32.
            let span = Double(input[p] + step) - Double(input[p] - step)
            if upSame && downSame { checked.append((p, Float((up - down) / span))) }
        }
        harness.forward(input)
        #expect(checked.count >= 4, "only \(checked.count) of \(positions.count) positions stay away from every kink")
        #expect(checked.contains { $0.position == order[0] || $0.position == order[1] || $0.position == order[2] },
                "none of the three largest derivatives could be checked")

        let scale = checked.map { abs($0.numeric) }.max() ?? 0
        #expect(scale > 0.1 * largest, "the checked derivatives are all far below the largest (\(scale) vs \(largest))")
        /// The worst excess over the tolerance (≤ 1 passes) of a candidate projection.
        func worst(_ candidate: [Float]) -> Float {
            checked.map { c in abs(candidate[c.position] - c.numeric) / (0.03 * scale + 0.02 * abs(c.numeric)) }.max() ?? .infinity
        }
        let report = checked.map { c in "\(c.position): \(projection[c.position]) vs \(c.numeric)" }.joined(separator: ", ")
        #expect(worst(projection) <= 1, "gradient projection against finite differences: \(report)")

        // Wrong answers that the comparison must reject.
        let producer = graph.nodes[try #require(graph.values[unitValue].producer)]
        let branch = producer.inputs[0], skip = producer.inputs[1]
        #expect(graph.values[branch].shape == shape && graph.values[skip].shape == shape)
        let withoutSkip = try harness.project(branch, channel: channel, at: (y: y, x: x), mode: .gradient)
        let withoutBranch = try harness.project(skip, channel: channel, at: (y: y, x: x), mode: .gradient)
        // The Add passes the gradient to both inputs: the two parts sum to the whole.
        let parts = zip(withoutSkip, withoutBranch).map { $0 + $1 }
        #expect(maxRelativeError(parts, projection) <= 1e-4)
        #expect(worst(withoutSkip) > 1, "the projection without the residual term passes too")
        #expect(worst(withoutBranch) > 1, "the projection without the branch passes too")
        var shifted = [Float](repeating: 0, count: projection.count)
        for c in 0..<channels {
            for row in 1..<height {
                for col in 0..<width { shifted[(c * height + row) * width + col] = projection[(c * height + row - 1) * width + col] }
            }
        }
        #expect(worst(shifted) > 1, "the projection shifted by one row passes too")
        #expect(worst(projection.map { -$0 }) > 1)
    }
}
