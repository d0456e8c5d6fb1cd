import Engine
import TestSupport
import Testing

/// One numeric op on a small graph: input → (optional prefix) → op → Mul by constant random signs
/// (so the gradient reaching the op has both signs), the Mul being the unit's layer.
struct NumericCase: Sendable, CustomTestStringConvertible {
    var name: String
    var input: [Int]
    /// Builds the op's node from the input and returns its output.
    var build: @Sendable (inout NetBuilder, Int) throws -> Int
    var testDescription: String { name }

    init(_ name: String, _ input: [Int], _ build: @escaping @Sendable (inout NetBuilder, Int) throws -> Int) {
        self.name = name; self.input = input; self.build = build
    }

    /// A single op applied to the input.
    static func unary(_ name: String, _ op: Operation, _ input: [Int]) -> NumericCase {
        NumericCase(name, input) { b, x in try b.node("op", op, [x]) }
    }

    func graph() throws -> Graph {
        var b = NetBuilder(name)
        let x = try b.graph.addInput(name: "x", shape: Shape(input))
        let y = try build(&b, x)
        let s = b.shape(y)
        // A [N, K] or NCHW value is a unit the projector can seed; anything else is reshaped to [N, K].
        var v = y
        if s.rank != 2 && s.rank != 4 { v = try b.node("flat", .reshape(Shape([s[0], s.count / s[0]])), [y]) }
        b.graph.outputs = [try b.node("mixed", .mul, [v, try b.constant("signs", b.shape(v).dims)])]
        return b.graph
    }

    func inputData() -> [Float] {
        var g = rng("input of " + name)
        return normalFloats(input.reduce(1, *), deviation: 1.5, using: &g)
    }
}

/// Binary cases: every kind against a constant of several broadcast shapes on either side, and
/// against a computed value (Sigmoid of the input, so Div never divides by zero).
let binaryFamilyCases: [NumericCase] = {
    let kinds: [(String, Operation)] = [("Add", .add), ("Sub", .sub), ("Mul", .mul), ("Div", .div),
                                        ("Max", .maximum), ("Min", .minimum)]
    var cases: [NumericCase] = []
    for (name, op) in kinds {
        for (dims, constantFirst) in [([1, 3, 5, 7], false), ([3, 1, 1], false), ([1, 3, 1, 1], true),
                                      ([5, 1], true), ([], false), ([2, 3, 1, 7], false)] as [([Int], Bool)] {
            cases.append(NumericCase("\(name) x∘c\(dims)\(constantFirst ? " (constant first)" : "")", [2, 3, 5, 7]) { b, x in
                // Away from zero, so Div's operands and Max/Min ties stay clear of trouble.
                let c = try b.constant("c", dims, in: 0.5...2)
                guard constantFirst else { return try b.node("op", op, [x, c]) }
                // A constant over the input would divide by values near zero: divide by Sigmoid(x).
                if case .div = op { return try b.node("op", op, [c, try b.node("s", .sigmoid, [x])]) }
                return try b.node("op", op, [c, x])
            })
        }
        cases.append(NumericCase("\(name) x∘Sigmoid(x)", [1, 5, 9, 3]) { b, x in
            let s = try b.node("s", .sigmoid, [x])
            return try b.node("op", op, [x, s])
        })
        // The same value on both sides (x − x and x / x are constant: nothing to project).
        if name != "Sub" && name != "Div" {
            cases.append(NumericCase("\(name) x∘x", [1, 3, 5, 7]) { b, x in try b.node("op", op, [x, x]) })
        }
    }
    return cases
}()

let pointwiseCases: [NumericCase] = [
    .unary("Elu(1)", .elu(alpha: 1), [1, 3, 7, 5]),
    .unary("Elu(0.4)", .elu(alpha: 0.4), [2, 3, 5, 9]),
    .unary("Selu", .selu(alpha: 1.6732632, gamma: 1.050701), [1, 5, 3, 7]),
    .unary("HardSigmoid", .hardSigmoid(alpha: 0.2, beta: 0.5), [1, 3, 9, 5]),
    .unary("HardSigmoid(1/6, 1/2)", .hardSigmoid(alpha: 1.0 / 6, beta: 0.5), [1, 3, 5, 7]),
    .unary("HardSwish", .hardSwish, [2, 3, 7, 5]),
    .unary("Softplus", .softplus, [1, 3, 5, 7]),
    .unary("Erf", .erf, [1, 3, 7, 9]),
    .unary("Gelu", .gelu(tanhApproximation: false), [1, 3, 5, 7]),
    .unary("Gelu tanh", .gelu(tanhApproximation: true), [1, 5, 3, 7]),
    NumericCase("Sqrt of a positive value", [1, 3, 5, 7]) { b, x in
        let s = try b.node("s", .sigmoid, [x])
        return try b.node("op", .sqrt, [s])
    },
    NumericCase("Pow x^2, x^3", [1, 3, 5, 7]) { b, x in
        let two = try b.graph.addConstant(name: "two", shape: Shape([]), data: [2])
        let sq = try b.node("sq", .pow, [x, two])
        let three = try b.graph.addConstant(name: "three", shape: Shape([1, 3, 1, 1]), data: [3, 1, 2])
        return try b.node("op", .pow, [sq, three])
    },
    NumericCase("Pow of a positive base and a computed exponent", [1, 3, 5, 7]) { b, x in
        let base = try b.constant("base", [1, 3, 1, 1], in: 0.5...2)
        return try b.node("op", .pow, [base, try b.node("t", .tanh, [x])])
    },
    .unary("PRelu per channel", .prelu(slope: [0.25, -0.5, 0.1]), [2, 3, 5, 7]),
    .unary("PRelu one slope", .prelu(slope: [0.3]), [1, 5, 3, 7]),
    .unary("LogSoftmax axis 1", .logSoftmax(axis: 1), [1, 5, 3, 7]),
    .unary("LogSoftmax axis 3", .logSoftmax(axis: 3), [2, 3, 5, 7]),
    NumericCase("LogSoftmax of a [N, K]", [3, 7, 1, 1]) { b, x in
        let f = try b.node("f", .reshape(Shape([3, 7])), [x])
        return try b.node("op", .logSoftmax(axis: 1), [f])
    },
]

let reduceCases: [NumericCase] = {
    var cases: [NumericCase] = []
    for (kind, name) in [(ReduceKind.mean, "ReduceMean"), (.sum, "ReduceSum"), (.max, "ReduceMax")] {
        for (axes, keep) in [([2, 3], true), ([2, 3], false), ([1], true), ([1], false), ([1, 2, 3], true),
                             ([3], true), ([0, 1], true)] as [([Int], Bool)] {
            cases.append(.unary("\(name) \(axes)\(keep ? " keepdims" : "")", .reduce(kind, axes: axes, keepDims: keep), [1, 5, 7, 3]))
        }
    }
    cases.append(.unary("GlobalMaxPool", .globalMaxPool, [2, 3, 5, 7]))
    return cases
}()

let normalizationCases: [NumericCase] = [
    .unary("InstanceNormalization", .instanceNorm(scale: [0.5, -1.5, 2], bias: [0.1, 0, -0.3], epsilon: 1e-5), [2, 3, 5, 7]),
    .unary("LayerNormalization axis 1", .layerNorm(axis: 1, scale: (0..<105).map { Float($0 % 7) / 3 - 1 },
                                                   bias: (0..<105).map { Float($0 % 5) / 10 }, epsilon: 1e-5), [2, 3, 5, 7]),
    .unary("LayerNormalization axis 3", .layerNorm(axis: 3, scale: [1, -0.5, 2, 0.7, 1.3, -1, 0.2],
                                                   bias: [0, 0.1, 0.2, 0.3, 0, -0.1, 0.5], epsilon: 1e-6), [1, 3, 5, 7]),
]

let paddingCases: [NumericCase] = [
    .unary("Pad reflect", .padEdges(begins: [0, 0, 2, 1], ends: [0, 0, 1, 3], reflect: true), [2, 3, 5, 7]),
    .unary("Pad reflect on channels", .padEdges(begins: [0, 2, 0, 0], ends: [0, 1, 4, 0], reflect: true), [1, 3, 5, 7]),
    .unary("Pad edge", .padEdges(begins: [0, 0, 3, 0], ends: [0, 0, 0, 2], reflect: false), [2, 3, 5, 7]),
    .unary("Pad edge wider than the input", .padEdges(begins: [0, 1, 6, 4], ends: [0, 0, 7, 1], reflect: false), [1, 3, 3, 2]),
]

/// A transposed convolution with seeded weights: weight [cin, cout / groups, k, k].
func convTransposeCase(_ name: String, _ input: [Int], out: Int, k: Int, s: Int, d: Int = 1, pads: [Int] = [0, 0, 0, 0],
                       outputPadding: [Int] = [0, 0], groups: Int = 1) -> NumericCase {
    NumericCase(name, input) { b, x in
        let cin = b.shape(x)[1]
        let weight = uniformFloats(cin * (out / groups) * k * k, in: -0.5...0.5, using: &b.rng)
        let window = Window(kernelH: k, kernelW: k, strideH: s, strideW: s, dilationH: d, dilationW: d,
                            padTop: pads[0], padLeft: pads[1], padBottom: pads[2], padRight: pads[3])
        let conv = Convolution(window: window, groups: groups, outChannels: out, inChannelsPerGroup: cin / groups,
                               weight: weight, bias: uniformFloats(out, in: -0.3...0.3, using: &b.rng))
        return try b.node("op", .convTranspose(conv, outputPadding: outputPadding), [x])
    }
}

let convTransposeCases: [NumericCase] = [
    convTransposeCase("ConvTranspose 3×3 stride 2", [1, 3, 5, 4], out: 4, k: 3, s: 2),
    convTransposeCase("ConvTranspose 4×4 stride 2 pad 1", [2, 2, 3, 5], out: 3, k: 4, s: 2, pads: [1, 1, 1, 1]),
    convTransposeCase("ConvTranspose output padding, asymmetric pads", [1, 3, 4, 3], out: 2, k: 3, s: 2, pads: [1, 0, 0, 1],
                      outputPadding: [1, 1]),
    convTransposeCase("ConvTranspose groups, dilation", [1, 4, 3, 5], out: 6, k: 3, s: 1, d: 2, pads: [1, 1, 1, 1], groups: 2),
]

/// MatMul by a constant over the rows of a 4-D map (a Linear layer over NHWC).
let rowDenseCase = NumericCase("MatMul over rows of a map", [1, 3, 5, 7]) { b, x in
    let d = Dense(inFeatures: 7, outFeatures: 4, weight: uniformFloats(28, in: -0.6...0.6, using: &b.rng),
                  bias: uniformFloats(4, in: -0.3...0.3, using: &b.rng))
    return try b.node("op", .dense(d), [x])
}

let resizeCases: [NumericCase] = [
    .unary("Resize nearest ×2 asymmetric floor", .resize(Resize(mode: .nearest, coordinates: .asymmetric, rounding: .floor,
                                                               outH: 10, outW: 14, scaleH: 2, scaleW: 2)), [1, 3, 5, 7]),
    .unary("Resize nearest ×2.6 half-pixel", .resize(Resize(mode: .nearest, coordinates: .halfPixel, rounding: .roundPreferFloor,
                                                           outH: 13, outW: 9, scaleH: 2.6, scaleW: 1.3)), [2, 3, 5, 7]),
    .unary("Resize linear half-pixel ×2", .resize(Resize(mode: .linear, coordinates: .halfPixel, rounding: .roundPreferFloor,
                                                       outH: 10, outW: 14, scaleH: 2, scaleW: 2)), [1, 3, 5, 7]),
    .unary("Resize linear align-corners down", .resize(Resize(mode: .linear, coordinates: .alignCorners, rounding: .floor,
                                                            outH: 3, outW: 4, scaleH: 0.6, scaleW: 4.0 / 7)), [1, 3, 5, 7]),
    .unary("Resize linear pytorch half-pixel", .resize(Resize(mode: .linear, coordinates: .pytorchHalfPixel, rounding: .floor,
                                                            outH: 11, outW: 1, scaleH: 11.0 / 5, scaleW: 1.0 / 7)), [1, 3, 5, 7]),
]

@Suite("Numeric ops: forward, projections and gradients against the naive passes")
struct NumericOpTests {
    static let all = binaryFamilyCases + pointwiseCases + reduceCases + normalizationCases + paddingCases + convTransposeCases + resizeCases + [rowDenseCase]

    /// The forward pass equals the double-precision naive one, with 1 and 3 threads.
    @Test(arguments: all)
    func forwardMatchesNaive(_ c: NumericCase) throws {
        let graph = try c.graph()
        let input = c.inputData()
        let (naive, _) = NaiveProjection.forward(graph: graph, input: input.map(Double.init), targets: graph.outputs)
        for threads in [1, 3] {
            let harness = ProjectionHarness(graph: graph, input: input, threads: threads)
            for node in graph.nodes {
                let error = maxRelativeError(harness.activations(node.output), naive[node.output].map(Float.init))
                #expect(error <= 2e-6, "\(c.name): '\(node.name)' with \(threads) thread(s), relative error \(error)")
            }
        }
    }

    /// Every mode's projection equals the naive backward pass, for units spread over the output
    /// with a one-hot seed and every channel with its activation seed.
    @Test(arguments: all)
    func projectionsMatchNaive(_ c: NumericCase) throws {
        let graph = try c.graph()
        let y = graph.outputs[0]
        for threads in [1, 2] {
            let harness = ProjectionHarness(graph: graph, input: c.inputData(), threads: threads)
            let values = harness.allValues()
            let (ch, h, w) = graph.values[y].shape.chw
            let total = ch * h * w
            var units: [(Int, (y: Int, x: Int)?)] = stride(from: 0, to: total, by: max(1, total / 9)).map {
                ($0 / (h * w), (y: ($0 / w) % h, x: $0 % w))
            }
            units += (0..<ch).map { ($0, nil) }
            for (channel, at) in units {
                for mode in ProjectionMode.allCases {
                    let ours = try harness.project(y, channel: channel, at: at, mode: mode)
                    let naive = NaiveProjection.project(graph: graph, values: values, target: y, channel: channel,
                                                        at: at, mode: mode).map(Float.init)
                    let error = maxRelativeError(ours, naive)
                    #expect(error <= 1e-5, "\(c.name), unit \(channel) \(at.map { "at \($0.y),\($0.x)" } ?? "activation seed"), \(mode), \(threads) thread(s): relative error \(error)")
                }
            }
        }
    }

    /// `gradient` mode is the true gradient: central finite differences of Σ seed ⊙ activation,
    /// taken of the double-precision forward pass, at every input position that no step moves
    /// across a kink (a rectifier's sign, a winner of Max, Min or ReduceMax, a ramp's end).
    @Test(arguments: all)
    func gradientMatchesFiniteDifferences(_ c: NumericCase) throws {
        let graph = try c.graph()
        let input = c.inputData()
        let harness = ProjectionHarness(graph: graph, input: input)
        let y = graph.outputs[0]
        let x = input.map(Double.init)
        let base = NaiveProjection.forward(graph: graph, input: x, targets: [y])
        // A unit with a gradient at its position (not on a flat piece).
        let unit = strongestUnit(graph, y, harness.activations(y)) { ch, yy, xx in
            (try? harness.project(y, channel: ch, at: (y: yy, x: xx), mode: .gradient))?.contains { $0 != 0 } ?? false
        }
        let step = 1e-4
        for position in [(y: unit.y, x: unit.x), nil] as [(y: Int, x: Int)?] {
            let seed = harness.seed(y, channel: unit.channel, at: position).map(Double.init)
            let projection = try harness.project(y, channel: unit.channel, at: position, mode: .gradient)
            var ours: [Float] = [], numeric: [Float] = []
            var skipped = 0
            for p in x.indices {
                var moved = x
                moved[p] = x[p] + step
                let up = NaiveProjection.forward(graph: graph, input: moved, targets: [y])
                moved[p] = x[p] - step
                let down = NaiveProjection.forward(graph: graph, input: moved, targets: [y])
                guard up.decisions == base.decisions && down.decisions == base.decisions else { skipped += 1; continue }
                let f = { (v: [[Double]]) in zip(seed, v[y]).reduce(0.0) { $0 + $1.0 * $1.1 } }
                ours.append(projection[p])
                numeric.append(Float((f(up.values) - f(down.values)) / (2 * step)))
            }
            let label = "\(c.name) \(position == nil ? "activation seed" : "one-hot seed")"
            #expect(skipped * 4 <= x.count, "\(label): \(skipped) of \(x.count) positions at a kink")
            #expect(numeric.contains { $0 != 0 }, "\(label): the unit depends on none of the checked inputs")
            let error = maxRelativeError(ours, numeric)
            #expect(error <= 1e-3, "\(label): relative error \(error) against finite differences")
        }
    }
}
