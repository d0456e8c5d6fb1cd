import Engine
import TestSupport
import Testing

/// One pooling configuration over an N×C×H×W input.
struct PoolCase: Sendable, CustomTestStringConvertible {
    var dims: [Int]
    var window: WindowSpec

    init(_ dims: [Int], k: (Int, Int), s: (Int, Int), d: (Int, Int) = (1, 1), pads: [Int] = [0, 0, 0, 0], ceil: Bool = false) {
        self.dims = dims
        window = WindowSpec(kernel: k, strides: s, dilations: d, pads: pads, ceilMode: ceil)
    }

    var testDescription: String { "\(dims) \(window)" }
    var count: Int { dims.reduce(1, *) }
    var shape: Shape { Shape(dims) }
}

let maxPoolCases: [PoolCase] = [
    PoolCase([1, 3, 8, 8], k: (2, 2), s: (2, 2)),
    PoolCase([2, 3, 13, 11], k: (2, 2), s: (2, 2)),                                   // floor drops the last row/column
    PoolCase([1, 4, 13, 11], k: (3, 3), s: (2, 2), pads: [1, 1, 1, 1]),
    PoolCase([1, 2, 13, 11], k: (3, 3), s: (1, 1), pads: [1, 1, 1, 1]),
    PoolCase([1, 2, 13, 11], k: (2, 2), s: (1, 1)),
    PoolCase([1, 3, 13, 11], k: (2, 2), s: (2, 2), ceil: true),                       // overhang of one
    PoolCase([2, 2, 12, 10], k: (3, 3), s: (2, 2), ceil: true),                       // AlexNet/GoogLeNet style
    PoolCase([1, 3, 12, 10], k: (3, 3), s: (2, 2), pads: [1, 1, 1, 1], ceil: true),   // padding and overhang
    PoolCase([1, 2, 5, 5], k: (2, 2), s: (2, 2), pads: [1, 1, 1, 1], ceil: true),     // a last window starting in the end padding is dropped
    PoolCase([1, 2, 13, 11], k: (3, 3), s: (1, 1), d: (2, 2)),
    PoolCase([1, 2, 13, 11], k: (2, 2), s: (2, 2), d: (2, 2), pads: [1, 1, 1, 1], ceil: true),
    PoolCase([1, 2, 13, 11], k: (3, 3), s: (2, 2), d: (2, 1), pads: [2, 1, 2, 1]),
    PoolCase([1, 3, 13, 11], k: (2, 2), s: (2, 2), pads: [0, 0, 1, 1]),               // TF SAME
    PoolCase([1, 3, 12, 10], k: (3, 3), s: (2, 2), pads: [0, 0, 1, 1]),
    PoolCase([1, 2, 12, 10], k: (3, 3), s: (2, 2), pads: [1, 0, 2, 1], ceil: true),
    PoolCase([1, 3, 13, 11], k: (3, 3), s: (2, 2), pads: [1, 0, 0, 2]),
    PoolCase([1, 2, 13, 11], k: (3, 2), s: (2, 1), pads: [1, 0, 1, 1]),
    PoolCase([1, 2, 1, 1], k: (3, 3), s: (1, 1), pads: [1, 1, 1, 1]),
]

let averagePoolCases: [PoolCase] = [
    PoolCase([2, 3, 13, 11], k: (2, 2), s: (2, 2)),
    PoolCase([1, 3, 13, 11], k: (3, 3), s: (1, 1), pads: [1, 1, 1, 1]),
    PoolCase([1, 3, 13, 11], k: (3, 3), s: (2, 2), pads: [1, 1, 1, 1]),
    PoolCase([1, 3, 12, 10], k: (3, 3), s: (2, 2), pads: [1, 1, 1, 1], ceil: true),   // overhang beyond the padding
    PoolCase([1, 3, 13, 11], k: (2, 2), s: (2, 2), ceil: true),
    PoolCase([1, 2, 14, 14], k: (3, 3), s: (3, 3), pads: [1, 1, 1, 1], ceil: true),
    PoolCase([1, 2, 5, 5], k: (2, 2), s: (2, 2), pads: [1, 1, 1, 1], ceil: true),
    PoolCase([1, 3, 13, 11], k: (3, 3), s: (2, 2), pads: [0, 1, 1, 0]),
    PoolCase([1, 3, 13, 11], k: (2, 3), s: (1, 2), pads: [1, 2, 0, 1]),
    PoolCase([1, 3, 12, 10], k: (3, 3), s: (2, 2), pads: [0, 0, 1, 1]),               // TF SAME: end padding only
    PoolCase([1, 2, 12, 10], k: (3, 3), s: (2, 2), pads: [1, 0, 2, 1], ceil: true),
    PoolCase([2, 2, 7, 9], k: (7, 9), s: (1, 1)),                                     // global, as a window
    PoolCase([1, 2, 1, 1], k: (3, 3), s: (1, 1), pads: [1, 1, 1, 1]),
    // Dilations (ONNX opset 19).
    PoolCase([1, 2, 13, 11], k: (3, 3), s: (1, 1), d: (2, 2)),
    PoolCase([1, 2, 13, 11], k: (2, 2), s: (2, 2), d: (2, 2), pads: [1, 1, 1, 1]),
    PoolCase([1, 2, 12, 10], k: (3, 2), s: (2, 1), d: (2, 3), pads: [1, 0, 2, 1], ceil: true),
]

@Suite("Pooling")
struct PoolingTests {
    // MARK: - MaxPool

    private func checkMaxPool(_ pc: PoolCase, input x: [Float], relu: Bool = false,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let graph = try makeGraph(input: pc.shape) { g, input in
            let v = relu ? try g.addNode(name: "relu", op: .relu, inputs: [input]) : input
            return try g.addNode(name: "pool", op: .maxPool(pc.window.engineWindow), inputs: [v])
        }
        let source = relu ? Reference.relu(Tensor(pc.dims, x)) : Tensor(pc.dims, x)
        let expected = Reference.maxPool(source, pc.window)
        #expect(graph.values[graph.outputs[0]].shape.dims == expected.y.shape, sourceLocation: sourceLocation)
        let run = runNetwork(graph, input: x)
        expectEqual(run, "pool", expected.y.data, sourceLocation: sourceLocation)
        for r in run.threadCounts.indices {
            let switches = try #require(run.switches[r]["pool"], sourceLocation: sourceLocation)
            let at = switches.indices.first { $0 >= expected.argmax.count || switches[$0] != expected.argmax[$0] }
            #expect(switches.count == expected.argmax.count && at == nil,
                    "switch \(at ?? -1): \(at.map { switches[$0] } ?? 0), expected \(at.map { expected.argmax[$0] } ?? 0)",
                    sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: maxPoolCases)
    func maxPool(_ pc: PoolCase) throws {
        var g = rng("max " + pc.testDescription)
        try checkMaxPool(pc, input: normalFloats(pc.count, using: &g))
    }

    /// Many exact ties: the switch is the first maximum in row-major order.
    @Test(arguments: maxPoolCases)
    func maxPoolTies(_ pc: PoolCase) throws {
        var g = rng("ties " + pc.testDescription)
        try checkMaxPool(pc, input: integerFloats(pc.count, in: 0...2, using: &g))
    }

    /// After a ReLU of negative values every window is all zeros: the first position inside the input
    /// wins, never a padded or overhanging one.
    @Test(arguments: maxPoolCases)
    func maxPoolAllZerosAfterRelu(_ pc: PoolCase) throws {
        var g = rng("zeros " + pc.testDescription)
        try checkMaxPool(pc, input: uniformFloats(pc.count, in: -2 ... -0.1, using: &g), relu: true)
    }

    /// All negative values: padding is not a zero that could win.
    @Test(arguments: maxPoolCases.filter { $0.window.pads != [0, 0, 0, 0] || $0.window.ceilMode })
    func maxPoolNegativeWithPadding(_ pc: PoolCase) throws {
        var g = rng("negative " + pc.testDescription)
        try checkMaxPool(pc, input: uniformFloats(pc.count, in: -2 ... -0.1, using: &g))
    }

    /// Switches are indices into one input plane, per (image, channel), and only max-pool nodes
    /// have them.
    @Test func switchesArePerPlane() throws {
        let pc = PoolCase([2, 3, 4, 4], k: (2, 2), s: (2, 2))
        // Each plane holds its maximum at a different place inside its first 2×2 window.
        let peak = [0, 1, 4, 5, 1, 4]
        var x = [Float](repeating: 0, count: pc.count)
        for p in 0..<6 { x[p * 16 + peak[p]] = 1 }
        let graph = try makeGraph(input: pc.shape) { g, input in
            let pool = try g.addNode(name: "pool", op: .maxPool(pc.window.engineWindow), inputs: [input])
            return try g.addNode(name: "after", op: .identity, inputs: [pool])
        }
        let network = Network(graph: graph, threads: 2)
        _ = network.input.update(fromContentsOf: x)
        network.forward()
        let switches = try #require(network.switches(ofNode: 0))
        #expect(switches.count == 6 * 4)
        for p in 0..<6 {
            #expect(switches[p * 4] == Int32(peak[p]), "plane \(p)")
            // The other windows are all zeros: their first position, (0, 2), (2, 0), (2, 2).
            #expect(Array(switches[(p * 4 + 1)...(p * 4 + 3)]) == [2, 8, 10], "plane \(p)")
        }
        #expect(network.switches(ofNode: 1) == nil)
    }

    // MARK: - AveragePool

    @Test(arguments: averagePoolCases, [false, true])
    func averagePool(_ pc: PoolCase, countIncludePad: Bool) throws {
        var g = rng("avg \(countIncludePad) " + pc.testDescription)
        let x = normalFloats(pc.count, using: &g)
        let graph = try singleNodeGraph(.averagePool(pc.window.engineWindow, countIncludePad: countIncludePad), input: pc.shape)
        let expected = Reference.averagePool(Tensor(pc.dims, x), pc.window, countIncludePad: countIncludePad)
        #expect(graph.values[graph.outputs[0]].shape.dims == expected.shape)
        expectClose(runNetwork(graph, input: x), "y", expected.data)
    }

    // MARK: - GlobalAveragePool

    /// Shapes include more than 64 planes (several tasks) and 1×1 planes.
    @Test(arguments: [[2, 3, 13, 11], [1, 70, 7, 9], [2, 130, 1, 1], [1, 1, 40, 40]])
    func globalAveragePool(_ dims: [Int]) throws {
        var g = rng("gap \(dims)")
        let x = normalFloats(dims.reduce(1, *), using: &g)
        let graph = try singleNodeGraph(.globalAveragePool, input: Shape(dims))
        #expect(graph.values[graph.outputs[0]].shape.dims == [dims[0], dims[1], 1, 1])
        expectClose(runNetwork(graph, input: x), "y", Reference.globalAveragePool(Tensor(dims, x)).data,
                    tolerance: tolerance(accumulating: dims[2] * dims[3]))
    }
}
