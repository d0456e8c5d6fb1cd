import Engine
import TestSupport
import Testing

/// A small network using most operations:
/// Conv → BN → Relu → MaxPool → depthwise Conv → Clip → Add (residual from the pool) →
/// Concat (with a 1×1 Conv branch of the pool) → GlobalAveragePool → Flatten → Gemm → Softmax.
struct SmallNetwork {
    static let inputDims = [2, 3, 17, 15]
    let stem = ConvCase("stem", n: 2, c: 3, h: 17, w: 15, out: 8, k: (3, 3), pads: [1, 1, 1, 1])
    let depthwise = ConvCase("depthwise", n: 2, c: 8, h: 9, w: 8, out: 8, groups: 8, k: (3, 3), pads: [1, 1, 1, 1])
    let branch = ConvCase("branch", n: 2, c: 8, h: 9, w: 8, out: 4, k: (1, 1), bias: false)
    let pool = WindowSpec(kernel: (3, 3), strides: (2, 2), pads: [1, 1, 1, 1])

    var stemWeight: [Float], stemBias: [Float]?
    var dwWeight: [Float], dwBias: [Float]?
    var branchWeight: [Float]
    var bn: BatchNormParameters
    var denseWeight: [Float], denseBias: [Float]

    init() {
        var g = rng("small network")
        (_, stemWeight, stemBias) = stem.data()
        (_, dwWeight, dwBias) = depthwise.data()
        (_, branchWeight, _) = branch.data()
        bn = BatchNormParameters(channels: 8, using: &g)
        denseWeight = uniformFloats(10 * 12, using: &g)
        denseBias = uniformFloats(10, using: &g)
    }

    func graph(fold: Bool) throws -> Graph {
        var graph = try makeGraph(input: Shape(Self.inputDims)) { g, x in
            var v = try g.addNode(name: "stem", op: .conv(stem.convolution(weight: stemWeight, bias: stemBias)), inputs: [x])
            v = try g.addNode(name: "stem_bn", op: bn.op, inputs: [v])
            v = try g.addNode(name: "stem_relu", op: .relu, inputs: [v])
            let pooled = try g.addNode(name: "pool", op: .maxPool(pool.engineWindow), inputs: [v])
            v = try g.addNode(name: "dw", op: .conv(depthwise.convolution(weight: dwWeight, bias: dwBias)), inputs: [pooled])
            v = try g.addNode(name: "dw_clip", op: .clip(lo: 0, hi: 6), inputs: [v])
            let sum = try g.addNode(name: "residual", op: .add, inputs: [v, pooled])
            let side = try g.addNode(name: "branch", op: .conv(branch.convolution(weight: branchWeight, bias: nil)), inputs: [pooled])
            v = try g.addNode(name: "concat", op: .concat(axis: 1), inputs: [sum, side])
            v = try g.addNode(name: "gap", op: .globalAveragePool, inputs: [v])
            v = try g.addNode(name: "flatten", op: .reshape(Shape([2, 12])), inputs: [v])
            v = try g.addNode(name: "fc", op: .dense(Dense(inFeatures: 12, outFeatures: 10, weight: denseWeight, bias: denseBias)), inputs: [v])
            return try g.addNode(name: "prob", op: .softmax(axis: 1), inputs: [v])
        }
        if fold { graph.foldBatchNorms() }
        return graph
    }

    /// Every layer's expected output, by name.
    func reference(_ x: [Float]) -> [String: Tensor] {
        var r: [String: Tensor] = [:]
        r["stem"] = stem.reference(x, stemWeight, stemBias)
        r["stem_bn"] = bn.reference(r["stem"]!)
        r["stem_relu"] = Reference.relu(r["stem_bn"]!)
        r["pool"] = Reference.maxPool(r["stem_relu"]!, pool).y
        r["dw"] = depthwise.reference(r["pool"]!.data, dwWeight, dwBias)
        r["dw_clip"] = Reference.clip(r["dw"]!, lo: 0, hi: 6)
        r["residual"] = Reference.binary(r["dw_clip"]!, r["pool"]!, +)
        r["branch"] = branch.reference(r["pool"]!.data, branchWeight, nil)
        r["concat"] = Reference.concat([r["residual"]!, r["branch"]!], axis: 1)
        r["gap"] = Reference.globalAveragePool(r["concat"]!)
        r["flatten"] = Tensor([2, 12], r["gap"]!.data)
        r["fc"] = Reference.gemm(r["flatten"]!.data, batch: 2, inFeatures: 12, weight: denseWeight, bias: denseBias, outFeatures: 10)
        r["prob"] = Reference.softmax(r["fc"]!, axis: 1)
        return r
    }

    static func input(_ label: String) -> [Float] {
        var g = rng(label)
        return normalFloats(inputDims.reduce(1, *), using: &g)
    }
}

@Suite("End to end")
struct EndToEndTests {
    /// Every layer matches the composed references, folded or not, with 1 and 2 threads.
    @Test(arguments: [false, true])
    func matchesComposedReferences(fold: Bool) throws {
        let net = SmallNetwork()
        let graph = try net.graph(fold: fold)
        if fold {
            #expect(graph.value(named: "stem") == nil)
            #expect(graph.nodes.first { $0.name == "stem_bn" }?.folded == ["stem"])
        }
        let x = SmallNetwork.input("input")
        let expected = net.reference(x)
        let run = runNetwork(graph, input: x, threads: [1, 2, 3])
        for v in graph.values where v.constant == nil && v.name != "x" {
            let want = try #require(expected[v.name], "no reference for \(v.name)")
            #expect(v.shape.dims == want.shape, "\(v.name)")
            expectClose(run, v.name, want.data, tolerance: 2e-5)
        }
        #expect(run.maxThreadDifference <= 1e-6)
        // The probabilities of each image sum to one.
        let p = run.output
        for i in 0..<2 { #expect(abs(p[(i * 10)..<(i * 10 + 10)].reduce(0, +) - 1) <= 1e-5) }
    }

    /// A second forward pass over the same input gives identical results in every layer; a pass over
    /// a new input gives that input's results (nothing stale is left behind).
    @Test(arguments: [1, 2])
    func repeatedForwardPasses(threads: Int) throws {
        let net = SmallNetwork()
        let graph = try net.graph(fold: true)
        let network = Network(graph: graph, threads: threads)
        func snapshot() -> [[Float]] {
            network.materializeAll()
            return graph.values.indices.filter { graph.values[$0].constant == nil }.map { Array(network.buffer($0)) }
        }
        let x1 = SmallNetwork.input("first"), x2 = SmallNetwork.input("second")
        _ = network.input.update(fromContentsOf: x1)
        network.forward()
        let first = snapshot()
        network.forward()
        #expect(snapshot() == first)

        _ = network.input.update(fromContentsOf: x2)
        network.forward()
        let expected = net.reference(x2)
        network.materializeAll()
        for name in ["stem_bn", "pool", "residual", "concat", "prob"] {
            let ours = try #require(network.buffer(named: name))
            #expect(maxRelativeError(Array(ours), expected[name]!.data) <= 2e-5, "\(name)")
        }
        #expect(network.buffer(named: "stem") == nil, "folded away")

        _ = network.input.update(fromContentsOf: x1)
        network.forward()
        #expect(snapshot() == first)
    }

    /// The same graph planned for 1 and for 2 threads gives the same results in every layer.
    @Test func threadCountsAgree() throws {
        let graph = try SmallNetwork().graph(fold: false)
        let run = runNetwork(graph, input: SmallNetwork.input("threads"), threads: [1, 2])
        #expect(run.maxThreadDifference <= 1e-6)
    }
}
