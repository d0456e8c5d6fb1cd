import Foundation
import Engine
import ModelIO
import Testing

/// BatchNormalization import and its folding into the convolution before it.
@Suite struct BatchNormImportTests {
    // A 2→3 channel 3×3 convolution (pad 1) on a 2×5×5 input, then BatchNormalization.
    let gamma: [Float] = [1.5, -0.5, 2]
    let beta: [Float] = [0.1, 0.2, -0.3]
    let mean: [Float] = [0.25, -1, 0.5]
    let variance: [Float] = [0.5, 2, 0.01]
    let epsilon: Float = 1e-3
    let weight = ramp(3 * 2 * 3 * 3, scale: 0.05)
    let bias: [Float] = [0.3, -0.2, 0.1]
    let input = ramp(2 * 5 * 5, scale: 0.2, offset: 0.05)

    func builder(convFeedsSomethingElse: Bool = false) -> ONNXBuilder {
        var b = ONNXBuilder(opset: 9, shape: [1, 2, 5, 5])
        b.weight("w", [3, 2, 3, 3], weight)
        b.weight("b", [3], bias)
        b.weight("gamma", [3], gamma)
        b.weight("beta", [3], beta)
        b.weight("mean", [3], mean, raw: false)
        b.weight("var", [3], variance)
        b.node("Conv", ["x", "w", "b"], ["conv"], [attr("pads", ints: [1, 1, 1, 1])])
        b.node("BatchNormalization", ["conv", "gamma", "beta", "mean", "var"], ["bn"], [attr("epsilon", float: epsilon)])
        b.output("bn")
        if convFeedsSomethingElse { b.output("conv") }
        return b
    }

    /// Direct convolution with zero padding 1, plain loops: [3, 5, 5].
    func convolve(weight: [Float], bias: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: 3 * 25)
        for o in 0..<3 {
            for y in 0..<5 {
                for x in 0..<5 {
                    var sum = Double(bias[o])
                    for c in 0..<2 {
                        for ky in 0..<3 {
                            for kx in 0..<3 {
                                let iy = y + ky - 1, ix = x + kx - 1
                                guard iy >= 0 && iy < 5 && ix >= 0 && ix < 5 else { continue }
                                sum += Double(weight[((o * 2 + c) * 3 + ky) * 3 + kx]) * Double(input[(c * 5 + iy) * 5 + ix])
                            }
                        }
                    }
                    out[(o * 5 + y) * 5 + x] = Float(sum)
                }
            }
        }
        return out
    }

    @Test func foldedConvolutionEqualsConvolutionThenBatchNorm() throws {
        let m = try builder().load()
        #expect(m.graph.nodes.count == 1)
        let node = try #require(m.node("bn"))
        #expect(node.folded == ["conv"])
        guard case .conv(let c) = node.op else { Issue.record("bn is \(node.op.kindName)"); return }

        // Unfolded: convolution, then (x - mean) / sqrt(var + eps) * gamma + beta.
        let raw = convolve(weight: weight, bias: bias)
        var expected = raw
        for o in 0..<3 {
            let denominator = (Double(variance[o]) + Double(epsilon)).squareRoot()
            for i in 0..<25 {
                expected[o * 25 + i] = Float((Double(raw[o * 25 + i]) - Double(mean[o])) / denominator * Double(gamma[o]) + Double(beta[o]))
            }
        }
        let folded = convolve(weight: c.weight, bias: c.bias)
        let worst = zip(folded, expected).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 1e-4, "max difference \(worst)")
    }

    @Test func batchNormAloneBecomesScaleAndShift() throws {
        var b = builder(convFeedsSomethingElse: true)
        b.model.graph.output.removeAll()
        b.output("bn", "conv")
        let m = try b.load()
        // The convolution is a graph output too, so it is not folded.
        #expect(m.graph.nodes.count == 2)
        guard case .batchNorm(let scale, let shift) = try #require(m.node("bn")).op else { Issue.record("not a BatchNorm"); return }
        for i in 0..<3 {
            let s = gamma[i] / (variance[i] + epsilon).squareRoot()
            #expect(abs(scale[i] - s) < 1e-5)
            #expect(abs(shift[i] - (beta[i] - mean[i] * s)) < 1e-5)
        }
    }

    @Test func defaultEpsilon() throws {
        var b = ONNXBuilder(shape: [1, 1, 2, 2])
        for (name, v) in [("g", Float(1)), ("b", 0), ("m", 0), ("v", 0)] { b.weight(name, [1], [v]) }
        b.node("BatchNormalization", ["x", "g", "b", "m", "v"], ["y"])
        b.output("y")
        guard case .batchNorm(let scale, _) = try #require(try b.load().node("y")).op else { Issue.record("not a BatchNorm"); return }
        #expect(abs(scale[0] - 1 / Float(1e-5).squareRoot()) < 1)
    }

    @Test func errors() {
        var short = ONNXBuilder(shape: [1, 3, 2, 2])
        short.weight("g", [3], [1, 1, 1])
        short.weight("b", [2], [0, 0])
        short.weight("m", [3], [0, 0, 0])
        short.weight("v", [3], [1, 1, 1])
        short.node("BatchNormalization", ["x", "g", "b", "m", "v"], ["y"])
        short.output("y")
        #expect(modelError { try short.load() }.contains("different lengths"))

        var negative = ONNXBuilder(shape: [1, 1, 2, 2])
        for (name, v) in [("g", Float(1)), ("b", 0), ("m", 0), ("v", -1)] { negative.weight(name, [1], [v]) }
        negative.node("BatchNormalization", ["x", "g", "b", "m", "v"], ["y"])
        negative.output("y")
        #expect(modelError { try negative.load() }.contains("not positive"))

        var channels = ONNXBuilder(shape: [1, 2, 2, 2])
        for (name, v) in [("g", Float(1)), ("b", 0), ("m", 0), ("v", 1)] { channels.weight(name, [1], [v]) }
        channels.node("BatchNormalization", ["x", "g", "b", "m", "v"], ["y"])
        channels.output("y")
        #expect(modelError { try channels.load() }.contains("Node 'y' (BatchNormalization)"))

        var missing = ONNXBuilder(shape: [1, 1, 2, 2])
        missing.weight("g", [1], [1])
        missing.node("BatchNormalization", ["x", "g"], ["y"])
        missing.output("y")
        #expect(modelError { try missing.load() }.contains("no 'B' input"))
    }
}
