import Engine
import TestSupport
import Testing

@Suite("Concat, Reshape, Gemm, Pad")
struct ShapeOperationTests {
    // MARK: - Concat

    /// Along each axis: the graph input, a constant and a node's output, of different sizes along
    /// the axis (the node pads the input along the axis).
    @Test(arguments: [0, 1, 2, 3])
    func concat(axis: Int) throws {
        let xDims = [2, 3, 5, 7]
        var g = rng("concat \(axis)")
        let x = normalFloats(xDims.reduce(1, *), using: &g)
        var cDims = xDims; cDims[axis] = 4
        let c = normalFloats(cDims.reduce(1, *), using: &g)
        var begins = [0, 0, 0, 0], ends = [0, 0, 0, 0]
        begins[axis] = 1; ends[axis] = 1
        let graph = try makeGraph(input: Shape(xDims)) { gr, input in
            let constant = try gr.addConstant(name: "c", shape: Shape(cDims), data: c)
            let padded = try gr.addNode(name: "padded", op: .pad(begins: begins, ends: ends, value: 0.5), inputs: [input])
            return try gr.addNode(name: "y", op: .concat(axis: axis), inputs: [input, constant, padded])
        }
        let padded = Reference.pad(Tensor(xDims, x), begins: begins, ends: ends, value: 0.5)
        let expected = Reference.concat([Tensor(xDims, x), Tensor(cDims, c), padded], axis: axis)
        #expect(graph.values[graph.outputs[0]].shape.dims == expected.shape)
        expectEqual(runNetwork(graph, input: x), "y", expected.data)
    }

    @Test func concatRank2AndSingleInput() throws {
        var g = rng("concat rank 2")
        let x = normalFloats(6, using: &g)
        let c = normalFloats(10, using: &g)
        let graph = try makeGraph(input: Shape([2, 3])) { gr, input in
            let constant = try gr.addConstant(name: "c", shape: Shape([2, 5]), data: c)
            let one = try gr.addNode(name: "one", op: .concat(axis: 1), inputs: [input])
            return try gr.addNode(name: "y", op: .concat(axis: 1), inputs: [one, constant])
        }
        let run = runNetwork(graph, input: x)
        expectEqual(run, "one", x)
        expectEqual(run, "y", Reference.concat([Tensor([2, 3], x), Tensor([2, 5], c)], axis: 1).data)
    }

    /// The same value twice, and a value added to itself.
    @Test func repeatedInputs() throws {
        var g = rng("repeated inputs")
        let x = normalFloats(2 * 3 * 4 * 5, using: &g)
        let graph = try makeGraph(input: Shape([2, 3, 4, 5])) { gr, input in
            _ = try gr.addNode(name: "twice", op: .concat(axis: 1), inputs: [input, input])
            let sum = try gr.addNode(name: "sum", op: .add, inputs: [input, input])
            return try gr.addNode(name: "y", op: .mul, inputs: [sum, sum])
        }
        let run = runNetwork(graph, input: x)
        let t = Tensor([2, 3, 4, 5], x)
        expectEqual(run, "twice", Reference.concat([t, t], axis: 1).data)
        let sum = Reference.binary(t, t, +)
        expectEqual(run, "sum", sum.data)
        expectEqual(run, "y", Reference.binary(sum, sum, *).data)
    }

    // MARK: - Reshape and Flatten

    @Test(arguments: [[2, 105], [6, 5, 7], [210], [1, 2, 3, 35], [2, 3, 35, 1]])
    func reshape(_ target: [Int]) throws {
        var g = rng("reshape \(target)")
        let x = normalFloats(210, using: &g)
        let graph = try makeGraph(input: Shape([2, 3, 5, 7])) { gr, input in
            let r = try gr.addNode(name: "r", op: .reshape(Shape(target)), inputs: [input])
            return try gr.addNode(name: "y", op: .identity, inputs: [r])
        }
        #expect(graph.values[graph.value(named: "r")!].shape.dims == target)
        let run = runNetwork(graph, input: x)
        expectEqual(run, "r", x)
        expectEqual(run, "y", x)
    }

    // MARK: - Gemm

    struct DenseCase: Sendable, CustomTestStringConvertible {
        var input: [Int], inFeatures: Int, outFeatures: Int, bias = true
        var testDescription: String { "\(input) → \(outFeatures)\(bias ? "" : ", no bias")" }
    }

    static let denseCases: [DenseCase] = [
        DenseCase(input: [1, 37], inFeatures: 37, outFeatures: 10),
        DenseCase(input: [1, 37], inFeatures: 37, outFeatures: 150),     // batch 1 splits rows into tasks
        DenseCase(input: [3, 37], inFeatures: 37, outFeatures: 150),
        DenseCase(input: [3, 37], inFeatures: 37, outFeatures: 11, bias: false),
        DenseCase(input: [1, 300], inFeatures: 300, outFeatures: 257),
        DenseCase(input: [3, 5, 2, 2], inFeatures: 20, outFeatures: 7),  // NCHW input, flattened per image
        DenseCase(input: [1, 16, 1, 1], inFeatures: 16, outFeatures: 9),
        DenseCase(input: [13], inFeatures: 13, outFeatures: 5),          // a vector: batch 1
    ]

    @Test(arguments: denseCases)
    func gemm(_ dc: DenseCase) throws {
        var g = rng("gemm " + dc.testDescription)
        let count = dc.input.reduce(1, *)
        let batch = count / dc.inFeatures
        let x = normalFloats(count, using: &g)
        let w = uniformFloats(dc.outFeatures * dc.inFeatures, using: &g)
        let b = dc.bias ? uniformFloats(dc.outFeatures, using: &g) : nil
        let graph = try singleNodeGraph(.dense(Dense(inFeatures: dc.inFeatures, outFeatures: dc.outFeatures, weight: w, bias: b)),
                                        input: Shape(dc.input))
        let expected = Reference.gemm(x, batch: batch, inFeatures: dc.inFeatures, weight: w, bias: b, outFeatures: dc.outFeatures)
        #expect(graph.values[graph.outputs[0]].shape.dims == [batch, dc.outFeatures])
        expectClose(runNetwork(graph, input: x), "y", expected.data, tolerance: tolerance(accumulating: dc.inFeatures))
    }

    // MARK: - Pad

    struct PadCase: Sendable, CustomTestStringConvertible {
        var dims: [Int], begins: [Int], ends: [Int], value: Float
        var testDescription: String { "\(dims) begins \(begins) ends \(ends) value \(value)" }
    }

    static let padCases: [PadCase] = [
        PadCase(dims: [1, 3, 5, 7], begins: [0, 0, 1, 1], ends: [0, 0, 1, 1], value: 0),
        PadCase(dims: [2, 3, 5, 7], begins: [0, 1, 2, 0], ends: [1, 2, 0, 3], value: -1.5),    // channels and batch too
        PadCase(dims: [1, 3, 5, 7], begins: [0, 0, 0, 1], ends: [0, 0, 1, 0], value: 0),       // TF SAME style
        PadCase(dims: [1, 2, 3, 3], begins: [0, 0, 0, 0], ends: [0, 0, 0, 0], value: 7),
        PadCase(dims: [1, 2, 1, 1], begins: [0, 3, 2, 2], ends: [0, 0, 2, 2], value: 2),
        PadCase(dims: [3, 4], begins: [1, 0], ends: [2, 3], value: 9),
        PadCase(dims: [2, 3, 4], begins: [0, 2, 1], ends: [1, 0, 1], value: -3),
        PadCase(dims: [5], begins: [2], ends: [3], value: 1),
    ]

    @Test(arguments: padCases)
    func pad(_ pc: PadCase) throws {
        var g = rng("pad " + pc.testDescription)
        let x = normalFloats(pc.dims.reduce(1, *), using: &g)
        let graph = try singleNodeGraph(.pad(begins: pc.begins, ends: pc.ends, value: pc.value), input: Shape(pc.dims))
        let expected = Reference.pad(Tensor(pc.dims, x), begins: pc.begins, ends: pc.ends, value: pc.value)
        #expect(graph.values[graph.outputs[0]].shape.dims == expected.shape)
        expectEqual(runNetwork(graph, input: x), "y", expected.data)
    }
}
