import Engine
import TestSupport
import Testing

@Suite("LRN and Softmax")
struct NormalizationTests {
    struct LRNCase: Sendable, CustomTestStringConvertible {
        var dims: [Int]
        var size: Int, alpha: Float, beta: Float, bias: Float
        var testDescription: String { "\(dims) size \(size) α \(alpha) β \(beta) bias \(bias)" }
    }

    static let lrnCases: [LRNCase] = [
        LRNCase(dims: [1, 7, 13, 11], size: 5, alpha: 1e-4, beta: 0.75, bias: 1),   // AlexNet
        LRNCase(dims: [1, 7, 13, 11], size: 3, alpha: 1e-4, beta: 0.75, bias: 1),
        LRNCase(dims: [2, 6, 40, 40], size: 5, alpha: 0.5, beta: 0.75, bias: 2),     // plane of 1,600: two chunks
        LRNCase(dims: [2, 9, 7, 9], size: 3, alpha: 2, beta: 0.6, bias: 1.5),
        LRNCase(dims: [1, 3, 5, 5], size: 5, alpha: 1, beta: 1, bias: 1),            // window wider than the channels
        LRNCase(dims: [1, 6, 3, 4], size: 4, alpha: 1, beta: 0.5, bias: 1),          // even size: one more channel after
        LRNCase(dims: [1, 4, 3, 3], size: 1, alpha: 1, beta: 0.5, bias: 1),
    ]

    @Test(arguments: lrnCases)
    func lrn(_ lc: LRNCase) throws {
        var g = rng("lrn " + lc.testDescription)
        // Large enough that the normalization changes the values a lot.
        let x = normalFloats(lc.dims.reduce(1, *), deviation: 5, using: &g)
        let graph = try singleNodeGraph(.lrn(LocalResponseNorm(size: lc.size, alpha: lc.alpha, beta: lc.beta, bias: lc.bias)),
                                        input: Shape(lc.dims))
        let expected = Reference.lrn(Tensor(lc.dims, x), size: lc.size, alpha: lc.alpha, beta: lc.beta, bias: lc.bias)
        #expect(maxRelativeError(x, expected.data) > 1e-3, "the normalization changes the values well beyond the tolerance")
        expectClose(runNetwork(graph, input: x), "y", expected.data)
    }

    struct SoftmaxCase: Sendable, CustomTestStringConvertible {
        var dims: [Int], axis: Int, offset: Float = 0
        var testDescription: String { "\(dims) axis \(axis)\(offset == 0 ? "" : " offset \(offset)")" }
    }

    static let softmaxCases: [SoftmaxCase] = [
        SoftmaxCase(dims: [3, 10], axis: 1),
        SoftmaxCase(dims: [3, 10], axis: 0),
        SoftmaxCase(dims: [1, 1000], axis: 1, offset: 80),   // large logits must not overflow
        SoftmaxCase(dims: [2, 5, 3, 7], axis: 1),
        SoftmaxCase(dims: [2, 5, 3, 7], axis: 3),
        SoftmaxCase(dims: [2, 5, 3, 7], axis: 2),
        SoftmaxCase(dims: [2, 5, 3, 7], axis: 1, offset: -200),
        SoftmaxCase(dims: [1, 4, 1, 1], axis: 1),
        SoftmaxCase(dims: [2, 3, 4], axis: 2),
    ]

    @Test(arguments: softmaxCases)
    func softmax(_ sc: SoftmaxCase) throws {
        var g = rng("softmax " + sc.testDescription)
        let x = normalFloats(sc.dims.reduce(1, *), mean: sc.offset, deviation: 3, using: &g)
        let graph = try singleNodeGraph(.softmax(axis: sc.axis), input: Shape(sc.dims))
        let run = runNetwork(graph, input: x)
        expectClose(run, "y", Reference.softmax(Tensor(sc.dims, x), axis: sc.axis).data)
        #expect(run.output.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
    }

    /// Equal logits give a uniform distribution.
    @Test func softmaxOfEqualValues() throws {
        let graph = try singleNodeGraph(.softmax(axis: 1), input: Shape([2, 8]))
        let run = runNetwork(graph, input: [Float](repeating: 3, count: 16))
        #expect(maxRelativeError(run.output, [Float](repeating: 0.125, count: 16)) <= 1e-6)
    }
}
