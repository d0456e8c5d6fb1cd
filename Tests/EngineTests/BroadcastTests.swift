import Engine
import TestSupport
import Testing

/// Add or Mul of a graph value and a constant (or of two graph values), with NumPy broadcasting.
struct BinaryCase: Sendable, CustomTestStringConvertible {
    /// Shapes of the first and second operand.
    var a: [Int], b: [Int]
    /// Which operand is the graph input; the other is a constant. `nil`: both come from the input
    /// through nodes (the input then has shape `a`, and `b` must equal `a`).
    var inputIsA: Bool?

    var testDescription: String {
        let side = inputIsA.map { $0 ? "input ∘ constant" : "constant ∘ input" } ?? "node ∘ node"
        return "\(a) ∘ \(b) (\(side))"
    }
}

let binaryCases: [BinaryCase] = [
    BinaryCase(a: [2, 3, 5, 7], b: [2, 3, 5, 7], inputIsA: true),
    BinaryCase(a: [2, 3, 5, 7], b: [2, 3, 5, 7], inputIsA: nil),
    BinaryCase(a: [2, 3, 41, 37], b: [2, 3, 41, 37], inputIsA: false),      // several chunks
    // Scalars on either side, in several ranks.
    BinaryCase(a: [2, 3, 5, 7], b: [1], inputIsA: true),
    BinaryCase(a: [2, 3, 5, 7], b: [], inputIsA: true),
    BinaryCase(a: [1, 1, 1, 1], b: [2, 3, 5, 7], inputIsA: false),
    BinaryCase(a: [], b: [2, 3, 5, 7], inputIsA: false),
    BinaryCase(a: [1], b: [1, 3, 41, 67], inputIsA: false),
    // Per channel, either side.
    BinaryCase(a: [2, 3, 5, 7], b: [1, 3, 1, 1], inputIsA: true),
    BinaryCase(a: [2, 3, 5, 7], b: [3, 1, 1], inputIsA: true),
    BinaryCase(a: [1, 3, 1, 1], b: [2, 3, 5, 7], inputIsA: false),
    BinaryCase(a: [3, 1, 1], b: [2, 3, 5, 7], inputIsA: false),
    BinaryCase(a: [2, 3, 5, 7], b: [1, 3, 1, 1], inputIsA: false),          // the input is the per-channel side
    BinaryCase(a: [3, 1, 1], b: [1, 3, 61, 67], inputIsA: true),
    BinaryCase(a: [2, 5, 61, 67], b: [5, 1, 1], inputIsA: true),            // chunks end inside a channel
    BinaryCase(a: [2, 16, 1, 1], b: [1, 16, 1, 1], inputIsA: true),         // squeeze-excite on 1×1
    BinaryCase(a: [2, 1, 5, 7], b: [1, 1, 1, 1], inputIsA: true),           // one channel: a scalar
    // General broadcasting.
    BinaryCase(a: [2, 3, 5, 7], b: [1, 1, 5, 1], inputIsA: true),
    BinaryCase(a: [2, 3, 5, 7], b: [2, 3, 1, 7], inputIsA: true),
    BinaryCase(a: [2, 3, 1, 7], b: [2, 3, 5, 7], inputIsA: false),
    BinaryCase(a: [2, 3, 5, 7], b: [7], inputIsA: true),                    // a row vector along W
    BinaryCase(a: [3], b: [2, 4, 5, 3], inputIsA: false),                   // not a channel vector
    BinaryCase(a: [2, 3, 5, 7], b: [5, 1], inputIsA: true),
    BinaryCase(a: [2, 1, 5, 7], b: [1, 3, 1, 1], inputIsA: true),           // both sides grow
    BinaryCase(a: [1, 3, 1, 7], b: [2, 1, 5, 1], inputIsA: false),
    BinaryCase(a: [4, 1], b: [1, 6], inputIsA: true),
    BinaryCase(a: [2, 3, 5], b: [3, 1], inputIsA: true),
    BinaryCase(a: [3, 10], b: [10], inputIsA: true),                        // a bias on a matrix
]

@Suite("Add and Mul")
struct BroadcastTests {
    @Test(arguments: binaryCases, [false, true])
    func broadcast(_ bc: BinaryCase, multiply: Bool) throws {
        var g = rng("\(multiply) " + bc.testDescription)
        let aData = normalFloats(bc.a.reduce(1, *), using: &g)
        let bData = normalFloats(bc.b.reduce(1, *), using: &g)
        let op: Operation = multiply ? .mul : .add
        let graph: Graph
        let input: [Float]
        let a: Tensor, b: Tensor
        switch bc.inputIsA {
        case .some(true):
            graph = try makeGraph(input: Shape(bc.a)) { g, x in
                let c = try g.addConstant(name: "c", shape: Shape(bc.b), data: bData)
                return try g.addNode(name: "y", op: op, inputs: [x, c])
            }
            input = aData; a = Tensor(bc.a, aData); b = Tensor(bc.b, bData)
        case .some(false):
            graph = try makeGraph(input: Shape(bc.b)) { g, x in
                let c = try g.addConstant(name: "c", shape: Shape(bc.a), data: aData)
                return try g.addNode(name: "y", op: op, inputs: [c, x])
            }
            input = bData; a = Tensor(bc.a, aData); b = Tensor(bc.b, bData)
        case .none:
            // y = Relu(x) ∘ Sigmoid(x)
            graph = try makeGraph(input: Shape(bc.a)) { g, x in
                let r = try g.addNode(name: "r", op: .relu, inputs: [x])
                let s = try g.addNode(name: "s", op: .sigmoid, inputs: [x])
                return try g.addNode(name: "y", op: op, inputs: [r, s])
            }
            input = aData
            a = Reference.relu(Tensor(bc.a, aData)); b = Reference.sigmoid(Tensor(bc.a, aData))
        }
        let expected = Reference.binary(a, b, multiply ? { $0 * $1 } : { $0 + $1 })
        #expect(graph.values[graph.outputs[0]].shape.dims == expected.shape)
        let run = runNetwork(graph, input: input)
        if bc.inputIsA == nil {
            expectClose(run, "y", expected.data, tolerance: 1e-6)   // Sigmoid may round differently
        } else {
            expectEqual(run, "y", expected.data)   // one float operation per element: exact
        }
    }

    /// Both operands constants: the node still computes.
    @Test func constantOperands() throws {
        var graph = Graph()
        let x = try graph.addInput(name: "x", shape: Shape([1, 2, 1, 1]))
        let a = try graph.addConstant(name: "a", shape: Shape([1, 2, 1, 3]), data: [1, 2, 3, 4, 5, 6])
        let b = try graph.addConstant(name: "b", shape: Shape([3]), data: [10, 20, 30])
        let ab = try graph.addNode(name: "ab", op: .mul, inputs: [a, b])
        graph.outputs = [try graph.addNode(name: "y", op: .add, inputs: [ab, x])]
        let run = runNetwork(graph, input: [100, 200])
        expectEqual(run, "ab", [10, 40, 90, 40, 100, 180])
        expectEqual(run, "y", [110, 140, 190, 240, 300, 380])
    }
}
