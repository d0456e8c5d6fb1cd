import Engine
import TestSupport
import Testing

/// One convolution configuration: input N×C×H×W, output channels, groups, window, bias.
struct ConvCase: Sendable, CustomTestStringConvertible {
    var n = 1, c: Int, h: Int, w: Int
    var outChannels: Int
    var groups = 1
    var window: WindowSpec
    var bias = true
    var label: String

    init(_ label: String, n: Int = 1, c: Int, h: Int, w: Int, out: Int, groups: Int = 1,
         k: (Int, Int), s: (Int, Int) = (1, 1), d: (Int, Int) = (1, 1), pads: [Int] = [0, 0, 0, 0],
         bias: Bool = true) {
        self.label = label
        self.n = n; self.c = c; self.h = h; self.w = w
        outChannels = out; self.groups = groups
        window = WindowSpec(kernel: k, strides: s, dilations: d, pads: pads)
        self.bias = bias
    }

    var testDescription: String { "\(label): \(n)×\(c)×\(h)×\(w) → \(outChannels), g\(groups), \(window)\(bias ? "" : ", no bias")" }
    var inChannelsPerGroup: Int { c / groups }
    var weightCount: Int { outChannels * inChannelsPerGroup * window.kernel.h * window.kernel.w }
    var accumulation: Int { inChannelsPerGroup * window.kernel.h * window.kernel.w }

    /// Random input, weights and bias for this case.
    func data() -> (input: [Float], weight: [Float], bias: [Float]?) {
        var g = rng(testDescription)
        let x = normalFloats(n * c * h * w, using: &g)
        let wt = uniformFloats(weightCount, in: -1...1, using: &g)
        let b = bias ? uniformFloats(outChannels, in: -1...1, using: &g) : nil
        return (x, wt, b)
    }

    func convolution(weight: [Float], bias: [Float]?) -> Convolution {
        Convolution(window: window.engineWindow, groups: groups, outChannels: outChannels,
                    inChannelsPerGroup: inChannelsPerGroup, weight: weight, bias: bias)
    }

    func reference(_ x: [Float], _ weight: [Float], _ bias: [Float]?) -> Tensor {
        Reference.conv(Tensor([n, c, h, w], x), weight: weight, bias: bias, outChannels: outChannels,
                       group: groups, window: window)
    }
}

/// TF "SAME" padding for one axis: total = max((⌈n/s⌉ − 1)·s + k − n, 0), the extra one at the end.
private func samePads(_ n: Int, k: Int, s: Int) -> (Int, Int) {
    let out = (n + s - 1) / s
    let total = max((out - 1) * s + k - n, 0)
    return (total / 2, total - total / 2)
}

private func same(h: Int, w: Int, k: Int, s: Int) -> [Int] {
    let (t, b) = samePads(h, k: k, s: s), (l, r) = samePads(w, k: k, s: s)
    return [t, l, b, r]
}

let convCases: [ConvCase] = [
    // Kernel sizes.
    ConvCase("pointwise", c: 8, h: 7, w: 9, out: 12, k: (1, 1)),
    ConvCase("pointwise, many columns, batch 2", n: 2, c: 8, h: 40, w: 40, out: 16, k: (1, 1)),
    ConvCase("1x1 stride 2", c: 5, h: 13, w: 11, out: 6, k: (1, 1), s: (2, 2)),
    ConvCase("1x1 padded", c: 5, h: 7, w: 9, out: 4, k: (1, 1), pads: [1, 2, 2, 1]),
    ConvCase("3x3", c: 3, h: 13, w: 11, out: 8, k: (3, 3), pads: [1, 1, 1, 1]),
    ConvCase("3x3 unpadded", c: 4, h: 7, w: 9, out: 5, k: (3, 3)),
    ConvCase("3x3, column chunks", c: 3, h: 33, w: 31, out: 8, k: (3, 3), pads: [1, 1, 1, 1]),
    ConvCase("3x3, column chunks, batch 2", n: 2, c: 4, h: 40, w: 40, out: 6, k: (3, 3), pads: [1, 1, 1, 1]),
    ConvCase("5x5", c: 3, h: 13, w: 11, out: 5, k: (5, 5), pads: [2, 2, 2, 2]),
    ConvCase("7x7 stride 2 (stem)", c: 3, h: 40, w: 40, out: 8, k: (7, 7), s: (2, 2), pads: [3, 3, 3, 3]),
    ConvCase("1x3", c: 4, h: 7, w: 9, out: 6, k: (1, 3), pads: [0, 1, 0, 1]),
    ConvCase("3x1", c: 4, h: 7, w: 9, out: 6, k: (3, 1), pads: [1, 0, 1, 0]),
    ConvCase("1x1 input", c: 16, h: 1, w: 1, out: 8, k: (3, 3), pads: [1, 1, 1, 1]),
    ConvCase("pads larger than the kernel", c: 3, h: 7, w: 9, out: 4, k: (3, 3), pads: [3, 4, 2, 3]),
    // Strides and dilations.
    ConvCase("stride 2", c: 3, h: 13, w: 11, out: 4, k: (3, 3), s: (2, 2), pads: [1, 1, 1, 1]),
    ConvCase("stride 3", c: 3, h: 13, w: 11, out: 4, k: (3, 3), s: (3, 3), pads: [1, 1, 1, 1]),
    ConvCase("strides 2×1", c: 3, h: 13, w: 11, out: 4, k: (3, 3), s: (2, 1), pads: [1, 1, 1, 1]),
    ConvCase("strides 1×3", c: 3, h: 13, w: 11, out: 4, k: (3, 3), s: (1, 3), pads: [1, 1, 1, 1]),
    ConvCase("dilation 2", c: 3, h: 13, w: 11, out: 5, k: (3, 3), d: (2, 2), pads: [2, 2, 2, 2]),
    ConvCase("dilations 2×1, stride 2", c: 3, h: 13, w: 11, out: 5, k: (3, 3), s: (2, 2), d: (2, 1), pads: [2, 1, 2, 1]),
    ConvCase("dilation 2, 5x5, column chunks", c: 2, h: 33, w: 31, out: 3, k: (5, 5), d: (2, 2), pads: [4, 4, 4, 4]),
    // Asymmetric pads.
    ConvCase("TF SAME 3x3 stride 2", c: 3, h: 40, w: 40, out: 6, k: (3, 3), s: (2, 2), pads: same(h: 40, w: 40, k: 3, s: 2)),
    ConvCase("TF SAME 5x5 stride 2", c: 3, h: 40, w: 40, out: 6, k: (5, 5), s: (2, 2), pads: same(h: 40, w: 40, k: 5, s: 2)),
    ConvCase("TF SAME 3x3 stride 2, odd", c: 3, h: 13, w: 12, out: 6, k: (3, 3), s: (2, 2), pads: same(h: 13, w: 12, k: 3, s: 2)),
    ConvCase("asymmetric pads", c: 3, h: 7, w: 9, out: 4, k: (3, 3), pads: [2, 0, 1, 3]),
    ConvCase("asymmetric pads, stride 2", c: 3, h: 13, w: 11, out: 4, k: (3, 3), s: (2, 2), pads: [0, 1, 2, 0]),
    // Groups.
    ConvCase("2 groups", c: 4, h: 13, w: 11, out: 6, groups: 2, k: (3, 3), pads: [1, 1, 1, 1]),
    ConvCase("3 groups", c: 6, h: 13, w: 11, out: 9, groups: 3, k: (3, 3), s: (2, 2), pads: [1, 1, 1, 1]),
    ConvCase("3 groups pointwise, batch 2", n: 2, c: 6, h: 7, w: 9, out: 9, groups: 3, k: (1, 1)),
    ConvCase("2 groups, column chunks", c: 4, h: 33, w: 31, out: 4, groups: 2, k: (3, 3), pads: [1, 1, 1, 1]),
    ConvCase("depthwise 3x3", c: 8, h: 13, w: 11, out: 8, groups: 8, k: (3, 3), pads: [1, 1, 1, 1]),
    ConvCase("depthwise 3x3 large", c: 4, h: 33, w: 31, out: 4, groups: 4, k: (3, 3), pads: [1, 1, 1, 1]),
    ConvCase("depthwise 3x3 stride 2 TF SAME", c: 5, h: 40, w: 40, out: 5, groups: 5, k: (3, 3), s: (2, 2), pads: same(h: 40, w: 40, k: 3, s: 2)),
    ConvCase("depthwise 5x5 stride 2 TF SAME, odd", c: 5, h: 13, w: 11, out: 5, groups: 5, k: (5, 5), s: (2, 2), pads: same(h: 13, w: 11, k: 5, s: 2)),
    ConvCase("depthwise stride 3", c: 3, h: 13, w: 11, out: 3, groups: 3, k: (3, 3), s: (3, 3), pads: [1, 1, 1, 1]),
    ConvCase("depthwise strides 1×2", c: 3, h: 13, w: 11, out: 3, groups: 3, k: (3, 3), s: (1, 2), pads: [1, 1, 1, 1]),
    ConvCase("depthwise strides 2×3", c: 3, h: 13, w: 11, out: 3, groups: 3, k: (3, 3), s: (2, 3), pads: [1, 0, 1, 2]),
    ConvCase("depthwise dilation 2", c: 3, h: 13, w: 11, out: 3, groups: 3, k: (3, 3), d: (2, 2), pads: [2, 2, 2, 2]),
    ConvCase("depthwise 7x7 on 1x1", c: 6, h: 1, w: 1, out: 6, groups: 6, k: (7, 7), pads: [3, 3, 3, 3]),
    ConvCase("depthwise, pads larger than the kernel", c: 3, h: 7, w: 9, out: 3, groups: 3, k: (3, 3), pads: [4, 3, 2, 5]),
    ConvCase("depthwise 1x3, batch 2", n: 2, c: 4, h: 7, w: 9, out: 4, groups: 4, k: (1, 3), pads: [0, 1, 0, 1]),
    ConvCase("depthwise stride 2, dilation 2, large pads", c: 3, h: 13, w: 11, out: 3, groups: 3, k: (3, 3), s: (2, 2), d: (2, 2), pads: [3, 4, 2, 5]),
    ConvCase("depthwise 7x7 stride 3", c: 2, h: 13, w: 11, out: 2, groups: 2, k: (7, 7), s: (3, 3), pads: [3, 3, 3, 3]),
    ConvCase("depthwise 1x1 stride 2", c: 4, h: 13, w: 11, out: 4, groups: 4, k: (1, 1), s: (2, 2)),
    ConvCase("depthwise 5x5 on 3x2", c: 3, h: 3, w: 2, out: 3, groups: 3, k: (5, 5), pads: [2, 2, 2, 2]),
    ConvCase("depthwise wide rows", c: 2, h: 5, w: 67, out: 2, groups: 2, k: (3, 3), pads: [1, 1, 1, 1]),
    ConvCase("depthwise, no bias", c: 4, h: 7, w: 9, out: 4, groups: 4, k: (3, 3), pads: [1, 1, 1, 1], bias: false),
    ConvCase("channel multiplier 2", c: 4, h: 13, w: 11, out: 8, groups: 4, k: (3, 3), pads: [1, 1, 1, 1]),
    ConvCase("channel multiplier 2, stride 2, batch 2", n: 2, c: 3, h: 13, w: 11, out: 6, groups: 3, k: (3, 3), s: (2, 2), pads: [1, 1, 1, 1]),
    // Many output channels over few columns: split by rows.
    ConvCase("128 outputs, 5x5 plane", c: 16, h: 5, w: 5, out: 128, k: (3, 3), pads: [1, 1, 1, 1]),
    ConvCase("200 outputs pointwise", c: 16, h: 7, w: 9, out: 200, k: (1, 1)),
    ConvCase("2 groups of 128 outputs, batch 2", n: 2, c: 8, h: 3, w: 5, out: 256, groups: 2, k: (3, 3), pads: [1, 1, 1, 1]),
    ConvCase("160 outputs on 1x1", c: 32, h: 1, w: 1, out: 160, k: (1, 1)),
    ConvCase("101 outputs (not whole panels), row split", c: 8, h: 4, w: 6, out: 101, k: (3, 3), pads: [1, 1, 1, 1]),
    ConvCase("96 outputs, 288-long rows", c: 32, h: 5, w: 5, out: 96, k: (3, 3), pads: [1, 1, 1, 1]),
    // Long accumulation and no bias.
    ConvCase("64 channels 3x3", c: 64, h: 7, w: 9, out: 8, k: (3, 3), pads: [1, 1, 1, 1]),
    ConvCase("pointwise, 320 channels", c: 320, h: 7, w: 9, out: 10, k: (1, 1)),
    ConvCase("32 channels 3x3, column chunks", c: 32, h: 33, w: 31, out: 7, k: (3, 3), pads: [1, 1, 1, 1]),
    ConvCase("no bias", c: 3, h: 13, w: 11, out: 4, k: (3, 3), pads: [1, 1, 1, 1], bias: false),
    ConvCase("no bias, batch 2", n: 2, c: 3, h: 7, w: 9, out: 4, k: (5, 5), s: (2, 2), pads: [2, 2, 2, 2], bias: false),
]

@Suite("Conv")
struct ConvolutionTests {
    @Test(arguments: convCases)
    func matchesReference(_ cc: ConvCase) throws {
        let (x, wt, b) = cc.data()
        let graph = try singleNodeGraph(.conv(cc.convolution(weight: wt, bias: b)), input: Shape([cc.n, cc.c, cc.h, cc.w]))
        let expected = cc.reference(x, wt, b)
        #expect(graph.values[graph.outputs[0]].shape.dims == expected.shape)
        let run = runNetwork(graph, input: x)
        let tol = tolerance(accumulating: cc.accumulation)
        #expect(maxRelativeError(run.value("y", run: 0), expected.data) <= tol)
        #expect(maxRelativeError(run.value("y", run: 1), expected.data) <= tol)
        #expect(run.maxThreadDifference <= 1e-6)
    }

    /// Activations the planner computes in the convolution's epilogue.
    enum Activation: Sendable, CaseIterable, CustomTestStringConvertible {
        case relu, clip06, leaky01

        var op: Operation {
            switch self {
            case .relu: .relu
            case .clip06: .clip(lo: 0, hi: 6)
            case .leaky01: .leakyRelu(alpha: 0.1)
            }
        }

        func reference(_ t: Tensor) -> Tensor {
            switch self {
            case .relu: Reference.relu(t)
            case .clip06: Reference.clip(t, lo: 0, hi: 6)
            case .leaky01: Reference.leakyRelu(t, alpha: 0.1)
            }
        }

        var testDescription: String {
            switch self {
            case .relu: "Relu"
            case .clip06: "Clip(0, 6)"
            case .leaky01: "LeakyRelu(0.1)"
            }
        }
    }

    static let fusedCases: [ConvCase] = [
        ConvCase("pointwise", n: 2, c: 6, h: 7, w: 9, out: 10, k: (1, 1)),
        ConvCase("3x3, column chunks", c: 3, h: 33, w: 31, out: 5, k: (3, 3), pads: [1, 1, 1, 1]),
        ConvCase("3x3 stride 2, 2 groups", c: 4, h: 13, w: 11, out: 6, groups: 2, k: (3, 3), s: (2, 2), pads: [0, 0, 1, 1]),
        ConvCase("depthwise", n: 2, c: 5, h: 13, w: 11, out: 5, groups: 5, k: (3, 3), pads: [1, 1, 1, 1]),
        ConvCase("128 outputs, row split", c: 8, h: 5, w: 7, out: 128, k: (3, 3), pads: [1, 1, 1, 1]),
    ]

    /// Conv → activation as a two-node graph: both the convolution's output and the activation's are
    /// written.
    @Test(arguments: Activation.allCases, fusedCases)
    func fusedActivation(_ act: Activation, _ cc: ConvCase) throws {
        var (x, wt, b) = cc.data()
        x = x.map { $0 * 4 }  // so Clip's upper bound matters
        let graph = try makeGraph(input: Shape([cc.n, cc.c, cc.h, cc.w])) { g, input in
            let conv = try g.addNode(name: "conv", op: .conv(cc.convolution(weight: wt, bias: b)), inputs: [input])
            return try g.addNode(name: "act", op: act.op, inputs: [conv])
        }
        let convRef = cc.reference(x, wt, b)
        let actRef = act.reference(convRef)
        switch act {  // the data reaches the part of the activation that differs from identity
        case .relu: #expect(actRef.data.contains(0))
        case .clip06: #expect(actRef.data.contains(6) && actRef.data.contains(0))
        case .leaky01: #expect(actRef.data.contains { $0 < 0 })
        }
        let run = runNetwork(graph, input: x)
        let tol = tolerance(accumulating: cc.accumulation)
        for r in 0..<2 {
            #expect(maxRelativeError(run.value("conv", run: r), convRef.data) <= tol, "conv output, run \(r)")
            #expect(maxRelativeError(run.value("act", run: r), actRef.data) <= tol, "activation output, run \(r)")
        }
        #expect(run.maxThreadDifference <= 1e-6)
    }

    /// A convolution whose output feeds two nodes is not fused; both consumers see the right values.
    @Test func activationAfterSharedConvolution() throws {
        let cc = ConvCase("shared", c: 3, h: 7, w: 9, out: 4, k: (3, 3), pads: [1, 1, 1, 1])
        let (x, wt, b) = cc.data()
        let graph = try makeGraph(input: Shape([1, 3, 7, 9])) { g, input in
            let conv = try g.addNode(name: "conv", op: .conv(cc.convolution(weight: wt, bias: b)), inputs: [input])
            let relu = try g.addNode(name: "relu", op: .relu, inputs: [conv])
            let sig = try g.addNode(name: "sig", op: .sigmoid, inputs: [conv])
            return try g.addNode(name: "sum", op: .add, inputs: [relu, sig])
        }
        let convRef = cc.reference(x, wt, b)
        let sumRef = Reference.binary(Reference.relu(convRef), Reference.sigmoid(convRef), +)
        let run = runNetwork(graph, input: x)
        #expect(maxRelativeError(run.value("conv"), convRef.data) <= 1e-5)
        #expect(maxRelativeError(run.value("relu"), Reference.relu(convRef).data) <= 1e-5)
        #expect(maxRelativeError(run.value("sum"), sumRef.data) <= 1e-5)
    }

    /// An activation that is also a graph output, after a convolution that is a graph output too.
    @Test func convolutionAndActivationBothOutputs() throws {
        let cc = ConvCase("outputs", c: 3, h: 7, w: 9, out: 4, k: (3, 3), pads: [1, 1, 1, 1])
        let (x, wt, b) = cc.data()
        var graph = try makeGraph(input: Shape([1, 3, 7, 9])) { g, input in
            let conv = try g.addNode(name: "conv", op: .conv(cc.convolution(weight: wt, bias: b)), inputs: [input])
            return try g.addNode(name: "act", op: .clip(lo: -0.5, hi: 0.5), inputs: [conv])
        }
        graph.outputs.append(graph.value(named: "conv")!)
        let convRef = cc.reference(x, wt, b)
        let run = runNetwork(graph, input: x)
        #expect(maxRelativeError(run.value("conv"), convRef.data) <= 1e-5)
        #expect(maxRelativeError(run.value("act"), Reference.clip(convRef, lo: -0.5, hi: 0.5).data) <= 1e-5)
    }
}
