import Engine
import TestSupport
import Testing

/// An elementwise activation and its reference.
struct ActivationCase: Sendable, CustomTestStringConvertible {
    var testDescription: String
    var op: Operation
    var reference: @Sendable (Tensor) -> Tensor
}

let activationCases: [ActivationCase] = [
    ActivationCase(testDescription: "Relu", op: .relu, reference: Reference.relu),
    ActivationCase(testDescription: "Clip(0, 6)", op: .clip(lo: 0, hi: 6)) { Reference.clip($0, lo: 0, hi: 6) },
    ActivationCase(testDescription: "Clip(-1, 1)", op: .clip(lo: -1, hi: 1)) { Reference.clip($0, lo: -1, hi: 1) },
    ActivationCase(testDescription: "Clip(-0.5, 2.5)", op: .clip(lo: -0.5, hi: 2.5)) { Reference.clip($0, lo: -0.5, hi: 2.5) },
    ActivationCase(testDescription: "Clip(-inf, 0.25)", op: .clip(lo: -.infinity, hi: 0.25)) { Reference.clip($0, lo: -.infinity, hi: 0.25) },
    ActivationCase(testDescription: "Clip(-2, inf)", op: .clip(lo: -2, hi: .infinity)) { Reference.clip($0, lo: -2, hi: .infinity) },
    ActivationCase(testDescription: "Clip(-inf, inf)", op: .clip(lo: -.infinity, hi: .infinity)) { Reference.clip($0, lo: -.infinity, hi: .infinity) },
    ActivationCase(testDescription: "Clip(1, 1)", op: .clip(lo: 1, hi: 1)) { Reference.clip($0, lo: 1, hi: 1) },
    ActivationCase(testDescription: "LeakyRelu(0.1)", op: .leakyRelu(alpha: 0.1)) { Reference.leakyRelu($0, alpha: 0.1) },
    ActivationCase(testDescription: "LeakyRelu(0.01)", op: .leakyRelu(alpha: 0.01)) { Reference.leakyRelu($0, alpha: 0.01) },
    ActivationCase(testDescription: "LeakyRelu(0.3)", op: .leakyRelu(alpha: 0.3)) { Reference.leakyRelu($0, alpha: 0.3) },
    ActivationCase(testDescription: "Sigmoid", op: .sigmoid, reference: Reference.sigmoid),
    ActivationCase(testDescription: "Tanh", op: .tanh, reference: Reference.tanh),
    ActivationCase(testDescription: "Identity", op: .identity) { $0 },
]

@Suite("Activations")
struct ActivationTests {
    /// Shapes: more than one 8,192-element chunk, odd sizes, a single element, rank 2.
    static let shapes: [[Int]] = [[2, 3, 41, 37], [1, 5, 13, 11], [1, 1, 1, 1], [3, 17]]

    @Test(arguments: activationCases, shapes)
    func matchesReference(_ act: ActivationCase, _ dims: [Int]) throws {
        var g = rng("\(act.testDescription) \(dims)")
        var x = normalFloats(dims.reduce(1, *), deviation: 3, using: &g)
        // Exact zeros, bounds and large magnitudes where there is room for them.
        let specials: [Float] = [0, -0.0, 1, -1, 6, -2, 0.25, 40, -40, 100, -100, 1e-30, -1e-30]
        for (i, v) in specials.enumerated() where i * 7 < x.count { x[i * 7] = v }
        let graph = try singleNodeGraph(act.op, input: Shape(dims))
        let run = runNetwork(graph, input: x)
        let expected = act.reference(Tensor(dims, x)).data
        expectClose(run, "y", expected, tolerance: 1e-6)
        #expect(run.output.allSatisfy { !$0.isNaN })
    }

    /// Infinite inputs follow the definitions (Sigmoid and Tanh saturate, Relu(−∞) = 0, Clip clamps).
    @Test func infiniteInputs() throws {
        let x: [Float] = [-.infinity, .infinity, 0, -3]
        let cases: [(Operation, [Float])] = [
            (.relu, [0, .infinity, 0, 0]),
            (.sigmoid, [0, 1, 0.5, 0.047425873 /* 1 / (1 + e³) */]),
            (.tanh, [-1, 1, 0, -0.9950548 /* tanh(−3) */]),
            (.clip(lo: -1, hi: 2), [-1, 2, 0, -1]),
            (.clip(lo: -.infinity, hi: .infinity), [-.infinity, .infinity, 0, -3]),
            (.leakyRelu(alpha: 0.5), [-.infinity, .infinity, 0, -1.5]),
            (.identity, x),
        ]
        for (op, expected) in cases {
            let run = runNetwork(try singleNodeGraph(op, input: Shape([1, 4])), input: x)
            #expect(maxRelativeError(run.output, expected) <= 1e-6, "\(op.kindName): \(run.output)")
        }
    }
}
