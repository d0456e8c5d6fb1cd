import Engine
import TestSupport
import Testing

/// Transpose, Slice and Tile: forward against the naive multi-index definitions on odd random
/// shapes (1 and 2 threads), the backward pass against finite differences (`gradient`) and against
/// the naive projection in all three modes, and their receptive fields.
@Suite("Layout ops: Transpose, Slice, Tile")
struct LayoutOpTests {
    static func random(_ count: Int, seed: UInt64) -> [Float] {
        var g = SplitMix64(seed: seed)
        return uniformFloats(count, using: &g)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var op: Operation
        var input: [Int]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "transpose NCHW→NHWC", op: .transpose(perm: [0, 2, 3, 1]), input: [1, 3, 5, 7]),
        Case(name: "transpose rank 5 shuffle", op: .transpose(perm: [0, 2, 1, 3, 4]), input: [1, 3, 5, 7, 9]),
        Case(name: "transpose rank 3 reversed", op: .transpose(perm: [2, 1, 0]), input: [5, 3, 11]),
        Case(name: "transpose rank 2", op: .transpose(perm: [1, 0]), input: [7, 13]),
        Case(name: "slice steps and reversal", op: .slice(Slicing(starts: [0, 1, 4, 6], steps: [1, 2, -1, -3], counts: [1, 2, 3, 3])),
             input: [1, 5, 7, 9]),
        Case(name: "slice one channel", op: .slice(Slicing(starts: [0, 2, 0, 0], steps: [1, 1, 1, 1], counts: [1, 1, 5, 3])),
             input: [1, 3, 5, 3]),
        Case(name: "slice (ONNX clamping)", op: .slice(Slicing.onnx(dims: [1, 3, 9, 11], starts: [-100, 1], ends: [100, -1],
                                                                   axes: [2, 3], steps: [3, 2])!), input: [1, 3, 9, 11]),
        Case(name: "tile", op: .tile(repeats: [1, 2, 3, 1]), input: [1, 3, 5, 7]),
        Case(name: "tile rank 3", op: .tile(repeats: [2, 1, 3]), input: [3, 5, 1]),
    ]

    @Test(arguments: cases)
    func forwardMatchesTheNaiveDefinition(_ c: Case) throws {
        let shape = Shape(c.input)
        let x = Self.random(shape.count, seed: 1)
        let run = try runSingleNode(c.op, input: shape, x)
        let out = run.graph.values[run.graph.outputs[0]].shape
        let naive = try #require(NaiveLayout.forward(c.op, x: x.map(Double.init), input: c.input, output: out.dims))
        #expect(run.output == naive.map(Float.init))
        #expect(run.maxThreadDifference == 0)
    }

    @Test func sliceOnnxClampsAsTheOperatorSays() {
        // Start past the end clamps to the last element for a negative step; end -100 runs to the front.
        let s = Slicing.onnx(dims: [10], starts: [100], ends: [-100], axes: [0], steps: [-3])!
        #expect(s.starts == [9] && s.counts == [4] && s.steps == [-3])
        #expect(Slicing.onnx(dims: [10], starts: [5], ends: [2], axes: [0], steps: [1])!.counts == [0])
        #expect(Slicing.onnx(dims: [10], starts: [0], ends: [5], axes: [0], steps: [0]) == nil)
    }

    @Test func shapesAreChecked() {
        #expect(throws: GraphError.self) { try singleNodeGraph(.transpose(perm: [0, 0, 1, 2]), input: Shape([1, 3, 4, 5])) }
        #expect(throws: GraphError.self) {
            try singleNodeGraph(.slice(Slicing(starts: [0, 2], steps: [1, 1], counts: [1, 5])), input: Shape([1, 6]))
        }
        #expect(throws: GraphError.self) { try singleNodeGraph(.tile(repeats: [1, 2]), input: Shape([1, 3, 4, 5])) }
    }

    /// conv → reshape → (op) → reshape back where needed → relu: the op between two layers that
    /// have a gradient, so a projection from the end must pass through it.
    static func network(_ c: Case) throws -> Graph {
        try makeGraph(input: Shape([1, 2, 7, 9])) { g, x in
            let w = Self.random(3 * 2 * 9, seed: 2)
            let conv = try g.addNode(name: "conv", op: .conv(Convolution(
                window: Window(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
                groups: 1, outChannels: 3, inChannelsPerGroup: 2, weight: w, bias: [0.1, -0.1, 0.05])), inputs: [x])
            var y: Int
            switch c.op {
            case .transpose(let perm) where perm.count == 5:
                let r = try g.addNode(name: "grouped", op: .reshape(Shape([1, 3, 1, 7, 9])), inputs: [conv])
                let t = try g.addNode(name: "shuffled", op: .transpose(perm: [0, 2, 1, 3, 4]), inputs: [r])
                y = try g.addNode(name: "back", op: .reshape(Shape([1, 3, 7, 9])), inputs: [t])
            case .transpose:
                y = try g.addNode(name: "op", op: .transpose(perm: [0, 1, 3, 2]), inputs: [conv])
            case .slice:
                y = try g.addNode(name: "op", op: .slice(Slicing(starts: [0, 1, 6, 1], steps: [1, 1, -2, 3], counts: [1, 2, 3, 3])), inputs: [conv])
            default:
                y = try g.addNode(name: "op", op: .tile(repeats: [1, 2, 1, 2]), inputs: [conv])
            }
            return try g.addNode(name: "relu", op: .relu, inputs: [y])
        }
    }

    static let projectionCases = [cases[0], cases[1], cases[4], cases[7]]

    @Test(arguments: projectionCases)
    func gradientEqualsFiniteDifferences(_ c: Case) throws {
        let graph = try Self.network(c)
        let input = Self.random(graph.values[graph.input].shape.count, seed: 3)
        let harness = ProjectionHarness(graph: graph, input: input)
        let target = harness.value("relu")
        let act = harness.activations(target)
        let best = act.indices.max { act[$0] < act[$1] }!
        let s = graph.values[target].shape
        let (channel, y, x) = (best / (s[2] * s[3]), (best / s[3]) % s[2], best % s[3])
        for position in [(y: y, x: x), nil] as [(y: Int, x: Int)?] {
            let projection = try harness.project(target, channel: channel, at: position, mode: .gradient)
            let seed = harness.seed(target, channel: channel, at: position)
            let numeric = harness.finiteDifferences(target, seed: seed, positions: Array(input.indices), step: 1e-2)
            var compared = 0
            for (i, n) in numeric.enumerated() {
                guard let n else { continue }
                compared += 1
                #expect(abs(Double(projection[i]) - n) <= 2e-3 * max(1, abs(n)), "\(c.name) at \(i): \(projection[i]) vs \(n)")
            }
            #expect(compared > input.count / 2)
            #expect(projection.contains { $0 != 0 })
        }
    }

    @Test(arguments: projectionCases)
    func everyModeMatchesTheNaiveProjection(_ c: Case) throws {
        let graph = try Self.network(c)
        let input = Self.random(graph.values[graph.input].shape.count, seed: 4)
        let harness = ProjectionHarness(graph: graph, input: input)
        let target = harness.value("relu")
        let values = harness.allValues()
        for mode in [ProjectionMode.gradient, .deconv, .guided] {
            for position in [(y: 1, x: 2), nil] as [(y: Int, x: Int)?] {
                let ours = try harness.project(target, channel: 1, at: position, mode: mode)
                let naive = NaiveProjection.project(graph: graph, values: values, target: target, channel: 1, at: position, mode: mode)
                #expect(maxRelativeError(ours, naive.map(Float.init)) <= 1e-5, "\(c.name) \(mode)")
            }
        }
    }

    @Test func receptiveFields() throws {
        // A channel shuffle and a channel slice keep the grid; a row slice moves and strides it;
        // transposing rows with columns or tiling rows gives every unit the whole input.
        let graph = try makeGraph(input: Shape([1, 4, 8, 8])) { g, x in
            let r = try g.addNode(name: "grouped", op: .reshape(Shape([1, 2, 2, 8, 8])), inputs: [x])
            let t = try g.addNode(name: "shuffled", op: .transpose(perm: [0, 2, 1, 3, 4]), inputs: [r])
            let back = try g.addNode(name: "back", op: .reshape(Shape([1, 4, 8, 8])), inputs: [t])
            let rows = try g.addNode(name: "rows", op: .slice(Slicing(starts: [0, 1, 2, 0], steps: [1, 1, 2, 1], counts: [1, 2, 3, 8])), inputs: [back])
            _ = try g.addNode(name: "swapped", op: .transpose(perm: [0, 1, 3, 2]), inputs: [back])
            return try g.addNode(name: "tiled", op: .tile(repeats: [1, 1, 2, 1]), inputs: [rows])
        }
        let f = ReceptiveField.all(in: graph)
        let identity = ReceptiveField(startY: 0.5, startX: 0.5, jumpY: 1, jumpX: 1, sizeY: 1, sizeX: 1)
        #expect(f[graph.value(named: "back")!] == identity)
        #expect(f[graph.value(named: "rows")!] == ReceptiveField(startY: 2.5, startX: 0.5, jumpY: 2, jumpX: 1, sizeY: 1, sizeX: 1))
        #expect(f[graph.value(named: "swapped")!]?.jumpY == 0)
        #expect(f[graph.value(named: "tiled")!]?.jumpY == 0)
    }

    @Test func costNothingAndHoldNoParameters() throws {
        for c in Self.cases {
            #expect(c.op.cost(output: Shape(c.input)) == OpCost(macs: 0, parameters: 0))
        }
    }
}
