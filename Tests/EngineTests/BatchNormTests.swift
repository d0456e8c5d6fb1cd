import Engine
import TestSupport
import Testing

/// BatchNormalization parameters as ONNX stores them, and the per-channel affine form the engine
/// runs (the conversion a model loader performs).
struct BatchNormParameters {
    var gamma: [Float], beta: [Float], mean: [Float], variance: [Float]
    var epsilon: Float = 1e-5

    init(channels: Int, using g: inout SplitMix64) {
        gamma = uniformFloats(channels, in: 0.5...2, using: &g)
        beta = uniformFloats(channels, in: -1...1, using: &g)
        mean = uniformFloats(channels, in: -0.5...0.5, using: &g)
        variance = uniformFloats(channels, in: 0.1...3, using: &g)
    }

    var op: Operation {
        let scale = zip(gamma, variance).map { $0 / ($1 + epsilon).squareRoot() }
        let shift = (0..<gamma.count).map { beta[$0] - mean[$0] * scale[$0] }
        return .batchNorm(scale: scale, shift: shift)
    }

    func reference(_ x: Tensor) -> Tensor {
        Reference.batchNorm(x, gamma: gamma, beta: beta, mean: mean, variance: variance, epsilon: epsilon)
    }
}

@Suite("BatchNormalization")
struct BatchNormTests {
    /// A BatchNormalization on the graph input (nothing to fold into).
    @Test(arguments: [[2, 5, 7, 9], [1, 3, 13, 11], [3, 6], [2, 4, 5], [1, 70, 1, 1]])
    func standalone(_ dims: [Int]) throws {
        var g = rng("bn \(dims)")
        let bn = BatchNormParameters(channels: dims[1], using: &g)
        let x = normalFloats(dims.reduce(1, *), using: &g)
        var graph = try singleNodeGraph(bn.op, input: Shape(dims), name: "bn")
        graph.foldBatchNorms()
        #expect(graph.nodes.count == 1)
        let run = runNetwork(graph, input: x)
        expectClose(run, "bn", bn.reference(Tensor(dims, x)).data)
    }

    static let foldCases: [ConvCase] = [
        ConvCase("3x3", c: 3, h: 13, w: 11, out: 6, k: (3, 3), pads: [1, 1, 1, 1]),
        ConvCase("3x3 stride 2, no bias, batch 2", n: 2, c: 4, h: 13, w: 11, out: 5, k: (3, 3), s: (2, 2), pads: [0, 0, 1, 1], bias: false),
        ConvCase("pointwise", c: 8, h: 7, w: 9, out: 12, k: (1, 1)),
        ConvCase("2 groups", c: 4, h: 7, w: 9, out: 6, groups: 2, k: (3, 3), pads: [1, 1, 1, 1]),
        ConvCase("depthwise", c: 5, h: 13, w: 11, out: 5, groups: 5, k: (3, 3), pads: [1, 1, 1, 1]),
        ConvCase("channel multiplier 2", c: 3, h: 7, w: 9, out: 6, groups: 3, k: (3, 3), pads: [1, 1, 1, 1]),
    ]

    /// Conv → BatchNormalization folds into one convolution named after the BatchNormalization, and
    /// computes what the two do in sequence.
    @Test(arguments: foldCases)
    func folded(_ cc: ConvCase) throws {
        let (x, wt, b) = cc.data()
        var g = rng("fold " + cc.testDescription)
        let bn = BatchNormParameters(channels: cc.outChannels, using: &g)
        var graph = try makeGraph(input: Shape([cc.n, cc.c, cc.h, cc.w])) { g, input in
            let conv = try g.addNode(name: "conv", op: .conv(cc.convolution(weight: wt, bias: b)), inputs: [input])
            return try g.addNode(name: "bn", op: bn.op, inputs: [conv])
        }
        graph.foldBatchNorms()

        #expect(graph.nodes.count == 1)
        let node = try #require(graph.nodes.first)
        #expect(node.name == "bn")
        #expect(node.folded == ["conv"])
        guard case .conv = node.op else { Issue.record("folded node is \(node.op.kindName), not a convolution"); return }
        #expect(graph.value(named: "conv") == nil, "the convolution's value disappears")
        #expect(graph.values.count == 2)
        #expect(node.inputs == [graph.input])
        #expect(graph.outputs == [graph.value(named: "bn")])
        #expect(graph.node(producing: node.output)?.name == "bn")

        let expected = bn.reference(cc.reference(x, wt, b))
        let run = runNetwork(graph, input: x)
        expectClose(run, "bn", expected.data, tolerance: tolerance(accumulating: cc.accumulation))
    }

    /// Conv → BatchNormalization → Relu: folded, then the activation fused into the folded conv.
    @Test func foldedThenFusedActivation() throws {
        let cc = ConvCase("3x3", c: 3, h: 13, w: 11, out: 6, k: (3, 3), pads: [1, 1, 1, 1])
        let (x, wt, b) = cc.data()
        var g = rng("fold relu")
        let bn = BatchNormParameters(channels: 6, using: &g)
        var graph = try makeGraph(input: Shape([1, 3, 13, 11])) { g, input in
            let conv = try g.addNode(name: "conv", op: .conv(cc.convolution(weight: wt, bias: b)), inputs: [input])
            let norm = try g.addNode(name: "bn", op: bn.op, inputs: [conv])
            return try g.addNode(name: "relu", op: .relu, inputs: [norm])
        }
        graph.foldBatchNorms()
        #expect(graph.nodes.map(\.name) == ["bn", "relu"])
        let normed = bn.reference(cc.reference(x, wt, b))
        let run = runNetwork(graph, input: x)
        expectClose(run, "bn", normed.data)
        expectClose(run, "relu", Reference.relu(normed).data)
    }

    /// Two Conv → BatchNormalization pairs in a row both fold, and the second conv reads the first
    /// pair's output.
    @Test func twoFoldsInARow() throws {
        let c1 = ConvCase("first", c: 3, h: 9, w: 7, out: 4, k: (3, 3), pads: [1, 1, 1, 1])
        let c2 = ConvCase("second", c: 4, h: 9, w: 7, out: 5, k: (1, 1))
        let (x, w1, b1) = c1.data()
        let (_, w2, b2) = c2.data()
        var g = rng("two folds")
        let bn1 = BatchNormParameters(channels: 4, using: &g)
        let bn2 = BatchNormParameters(channels: 5, using: &g)
        var graph = try makeGraph(input: Shape([1, 3, 9, 7])) { g, input in
            var v = try g.addNode(name: "conv1", op: .conv(c1.convolution(weight: w1, bias: b1)), inputs: [input])
            v = try g.addNode(name: "bn1", op: bn1.op, inputs: [v])
            v = try g.addNode(name: "conv2", op: .conv(c2.convolution(weight: w2, bias: b2)), inputs: [v])
            return try g.addNode(name: "bn2", op: bn2.op, inputs: [v])
        }
        graph.foldBatchNorms()
        #expect(graph.nodes.map(\.name) == ["bn1", "bn2"])
        #expect(graph.nodes.map(\.folded) == [["conv1"], ["conv2"]])
        #expect(graph.value(named: "conv1") == nil && graph.value(named: "conv2") == nil)
        #expect(graph.nodes[1].inputs == [graph.value(named: "bn1")!])
        let y1 = bn1.reference(c1.reference(x, w1, b1))
        let y2 = bn2.reference(c2.reference(y1.data, w2, b2))
        let run = runNetwork(graph, input: x)
        expectClose(run, "bn1", y1.data)
        expectClose(run, "bn2", y2.data)
    }

    /// A convolution whose output is used elsewhere (or is a graph output) keeps its own node; the
    /// BatchNormalization then runs on its own.
    @Test(arguments: [false, true])
    func notFoldedWhenConvolutionIsShared(asGraphOutput: Bool) throws {
        let cc = ConvCase("shared", c: 3, h: 7, w: 9, out: 4, k: (3, 3), pads: [1, 1, 1, 1])
        let (x, wt, b) = cc.data()
        var g = rng("shared bn")
        let bn = BatchNormParameters(channels: 4, using: &g)
        var graph = try makeGraph(input: Shape([1, 3, 7, 9])) { g, input in
            let conv = try g.addNode(name: "conv", op: .conv(cc.convolution(weight: wt, bias: b)), inputs: [input])
            let norm = try g.addNode(name: "bn", op: bn.op, inputs: [conv])
            if asGraphOutput { return norm }
            let relu = try g.addNode(name: "relu", op: .relu, inputs: [conv])
            return try g.addNode(name: "sum", op: .add, inputs: [norm, relu])
        }
        if asGraphOutput { graph.outputs.append(graph.value(named: "conv")!) }
        let before = graph.nodes.count
        graph.foldBatchNorms()
        #expect(graph.nodes.count == before)
        #expect(graph.nodes.allSatisfy { $0.folded.isEmpty })
        let convRef = cc.reference(x, wt, b)
        let run = runNetwork(graph, input: x)
        expectClose(run, "conv", convRef.data)
        expectClose(run, "bn", bn.reference(convRef).data)
        if !asGraphOutput {
            expectClose(run, "sum", Reference.binary(bn.reference(convRef), Reference.relu(convRef), +).data)
        }
    }

    /// A BatchNormalization after something other than a convolution is left alone.
    @Test func notFoldedAfterOtherOperations() throws {
        var g = rng("bn after relu")
        let bn = BatchNormParameters(channels: 3, using: &g)
        let x = normalFloats(3 * 5 * 4, using: &g)
        var graph = try makeGraph(input: Shape([1, 3, 5, 4])) { g, input in
            let relu = try g.addNode(name: "relu", op: .relu, inputs: [input])
            return try g.addNode(name: "bn", op: bn.op, inputs: [relu])
        }
        graph.foldBatchNorms()
        #expect(graph.nodes.map(\.name) == ["relu", "bn"])
        let run = runNetwork(graph, input: x)
        expectClose(run, "bn", bn.reference(Reference.relu(Tensor([1, 3, 5, 4], x))).data)
    }
}
