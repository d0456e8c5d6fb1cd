// Small random networks for the projection tests, covering every operation the engine runs.

import Engine
import TestSupport
import Testing

/// Builds a graph with seeded random parameters, scaled so activations stay of order one.
struct NetBuilder {
    var graph = Graph()
    var rng: SplitMix64

    init(_ label: String) { rng = EngineTests.rng(label) }

    func shape(_ v: Int) -> Shape { graph.values[v].shape }

    mutating func node(_ name: String, _ op: Operation, _ inputs: [Int]) throws -> Int {
        try graph.addNode(name: name, op: op, inputs: inputs)
    }

    /// A constant of shape `dims` with values uniform in `range`.
    mutating func constant(_ name: String, _ dims: [Int], in range: ClosedRange<Float> = -1...1) throws -> Int {
        try graph.addConstant(name: name, shape: Shape(dims), data: uniformFloats(dims.reduce(1, *), in: range, using: &rng))
    }

    /// A convolution with weights uniform in ±gain·√(3 / fan-in) and a small bias. `pads` is
    /// [top, left, bottom, right].
    mutating func conv(_ name: String, _ x: Int, out: Int, k: Int = 3, kw: Int? = nil, s: Int = 1, sw: Int? = nil,
                       d: Int = 1, pads: [Int] = [0, 0, 0, 0], groups: Int = 1, gain: Float = 1,
                       bias: Float = 0.3) throws -> Int {
        let cin = shape(x)[1]
        let cpg = cin / groups
        let kw = kw ?? k
        let fan = Float(cpg * k * kw)
        let bound = gain * (3 / fan).squareRoot()
        let weight = uniformFloats(out * cpg * k * kw, in: -bound...bound, using: &rng)
        let b = bias > 0 ? uniformFloats(out, in: -bias...bias, using: &rng) : nil
        let window = Window(kernelH: k, kernelW: kw, strideH: s, strideW: sw ?? s, dilationH: d, dilationW: d,
                            padTop: pads[0], padLeft: pads[1], padBottom: pads[2], padRight: pads[3])
        return try node(name, .conv(Convolution(window: window, groups: groups, outChannels: out,
                                                inChannelsPerGroup: cpg, weight: weight, bias: b)), [x])
    }

    /// A fully connected layer over the flattened input.
    mutating func dense(_ name: String, _ x: Int, out: Int, gain: Float = 1) throws -> Int {
        let s = shape(x)
        let inF = s.count / s[0]
        let bound = gain * (3 / Float(inF)).squareRoot()
        let d = Dense(inFeatures: inF, outFeatures: out, weight: uniformFloats(inF * out, in: -bound...bound, using: &rng),
                      bias: uniformFloats(out, in: -0.3...0.3, using: &rng))
        return try node(name, .dense(d), [x])
    }

    /// A standalone per-channel affine (an inference BatchNormalization) with random statistics.
    mutating func batchNorm(_ name: String, _ x: Int) throws -> Int {
        let c = shape(x)[1]
        let gamma = uniformFloats(c, in: 0.5...2, using: &rng), beta = uniformFloats(c, in: -0.5...0.5, using: &rng)
        let mean = uniformFloats(c, in: -0.5...0.5, using: &rng), variance = uniformFloats(c, in: 0.2...2, using: &rng)
        let scale = (0..<c).map { gamma[$0] / (variance[$0] + 1e-5).squareRoot() }
        let shift = (0..<c).map { beta[$0] - mean[$0] * scale[$0] }
        return try node(name, .batchNorm(scale: scale, shift: shift), [x])
    }
}

/// A small network, its input and the layers to project from.
struct ProjectionNet: Sendable, CustomTestStringConvertible {
    enum InputKind: Sendable { case normal, integers(ClosedRange<Int>), negative }

    var name: String
    var input: [Int]
    /// Layers to project from; the graph output when empty.
    var targets: [String] = []
    var fold = false
    var inputKind = InputKind.normal
    var build: @Sendable (inout NetBuilder, Int) throws -> Int

    init(_ name: String, _ input: [Int], targets: [String] = [], fold: Bool = false, inputKind: InputKind = .normal,
         _ build: @escaping @Sendable (inout NetBuilder, Int) throws -> Int) {
        self.name = name; self.input = input; self.targets = targets; self.fold = fold
        self.inputKind = inputKind; self.build = build
    }

    var testDescription: String { name }

    func graph() throws -> Graph {
        var b = NetBuilder(name)
        let x = try b.graph.addInput(name: "x", shape: Shape(input))
        let y = try build(&b, x)
        var g = b.graph
        g.outputs = [y]
        if fold { g.foldBatchNorms() }
        return g
    }

    func inputData() -> [Float] {
        var g = EngineTests.rng("input of " + name)
        let n = input.reduce(1, *)
        switch inputKind {
        case .normal: return normalFloats(n, using: &g)
        case .integers(let r): return integerFloats(n, in: r, using: &g)
        case .negative: return uniformFloats(n, in: -3 ... -0.5, using: &g)
        }
    }

    /// The value indices to project from.
    func targetValues(_ graph: Graph) -> [Int] {
        targets.isEmpty ? [graph.outputs[0]] : targets.map { graph.value(named: $0)! }
    }
}

/// The unit a test projects: the largest |activation| of batch item 0 that occurs only once in it
/// (a repeated value is most likely a rectifier's bound) and that `accept` takes, its channel and
/// position (for a [N, K] value: the unit).
func strongestUnit(_ graph: Graph, _ value: Int, _ act: [Float],
                   accept: (_ channel: Int, _ y: Int, _ x: Int) -> Bool = { _, _, _ in true }) -> (channel: Int, y: Int, x: Int) {
    let shape = graph.values[value].shape
    let (c, h, w) = shape.rank == 2 ? (shape[1], 1, 1) : (shape[1], shape[2], shape[3])
    let first = Array(act[0..<(c * h * w)])
    var counts: [Float: Int] = [:]
    for v in first { counts[v, default: 0] += 1 }
    let order = first.indices.filter { counts[first[$0]] == 1 }.sorted { abs(first[$0]) > abs(first[$1]) }
    func unit(_ i: Int) -> (channel: Int, y: Int, x: Int) { (i / (h * w), (i % (h * w)) / w, i % w) }
    for i in order.prefix(32) {
        let u = unit(i)
        if accept(u.channel, u.y, u.x) { return u }
    }
    return unit(order.first ?? 0)
}
