import Engine
import TestSupport
import Testing

/// Expects the projections of a unit by every harness (one graph and input, any thread counts) to
/// match the naive backward pass over `values` (the first harness's forward pass), in every mode.
private func expectMatchesNaive(_ harnesses: [ProjectionHarness], values: [[Float]], target: Int, channel: Int,
                                at position: (y: Int, x: Int)?, label: String, tolerance: Float = 1e-5,
                                sourceLocation: SourceLocation = #_sourceLocation) throws {
    for mode in ProjectionMode.allCases {
        let naive = NaiveProjection.project(graph: harnesses[0].graph, values: values, target: target, channel: channel,
                                            at: position, mode: mode).map(Float.init)
        for harness in harnesses {
            let ours = try harness.project(target, channel: channel, at: position, mode: mode)
            let error = maxRelativeError(ours, naive)
            let seedText = position.map { "at \($0.y),\($0.x)" } ?? "activation seed"
            let mismatch = firstMismatch(ours, naive, tolerance: tolerance * (naive.map(abs).max() ?? 0))
            #expect(error <= tolerance,
                    "\(label), \(harness.network.pool.threadCount) thread(s), unit \(channel) \(seedText), \(mode): relative error \(error), first mismatch at \(mismatch.map(String.init) ?? "-")",
                    sourceLocation: sourceLocation)
        }
    }
}

/// A graph: input → `op` → Mul by a constant of random signs (so the gradient reaching `op` has
/// both signs), the Mul being the unit's layer.
private func signMixed(_ op: Operation, input dims: [Int], label: String) throws -> Graph {
    var b = NetBuilder(label)
    let x = try b.graph.addInput(name: "x", shape: Shape(dims))
    let y = try b.node("op", op, [x])
    let mixer = try b.constant("signs", b.shape(y).dims)
    b.graph.outputs = [try b.node("mixed", .mul, [y, mixer])]
    return b.graph
}

@Suite("Projection: every mode against a naive backward pass")
struct ProjectionRuleTests {
    // MARK: - Whole networks

    /// Every network of the gradient tests and the end-to-end networks, in all three modes, for the
    /// strongest unit and the last channel's centre, with both seeds, with 1 and 3 threads.
    @Test(arguments: projectionConvNets + projectionOpNets + projectionEndToEndNets)
    func networksMatchNaive(_ net: ProjectionNet) throws {
        let graph = try net.graph()
        let harnesses = [1, 3].map { ProjectionHarness(graph: graph, input: net.inputData(), threads: $0) }
        let values = harnesses[0].allValues()
        for target in net.targetValues(graph) {
            let shape = graph.values[target].shape
            let strongest = strongestUnit(graph, target, harnesses[0].activations(target))
            var units = [(strongest.channel, (y: strongest.y, x: strongest.x))]
            if shape.rank == 4 { units.append((shape[1] - 1, (y: shape[2] / 2, x: shape[3] / 2))) }
            for (channel, position) in units {
                for at in [position, nil] as [(y: Int, x: Int)?] {
                    try expectMatchesNaive(harnesses, values: values, target: target, channel: channel, at: at,
                                           label: graph.values[target].name)
                }
            }
        }
    }

    // MARK: - Op by op

    struct OpCase: Sendable, CustomTestStringConvertible {
        var name: String
        var op: Operation
        var input: [Int]
        var inputKind: ProjectionNet.InputKind = .normal
        var testDescription: String { name }
    }

    static let singleOpCases: [OpCase] = [
        OpCase(name: "Relu", op: .relu, input: [1, 3, 5, 6]),
        OpCase(name: "Clip(0, 6)", op: .clip(lo: 0, hi: 6), input: [1, 3, 5, 6], inputKind: .integers(-8...8)),
        OpCase(name: "Clip(0, 0.5)", op: .clip(lo: 0, hi: 0.5), input: [1, 3, 5, 6]),
        OpCase(name: "Clip(-1, 1)", op: .clip(lo: -1, hi: 1), input: [1, 3, 5, 6]),
        OpCase(name: "Clip(0.25, 2)", op: .clip(lo: 0.25, hi: 2), input: [1, 3, 5, 6]),
        OpCase(name: "LeakyRelu(0.1)", op: .leakyRelu(alpha: 0.1), input: [1, 3, 5, 6]),
        OpCase(name: "LeakyRelu(0)", op: .leakyRelu(alpha: 0), input: [1, 3, 5, 6]),
        OpCase(name: "LeakyRelu(-0.4)", op: .leakyRelu(alpha: -0.4), input: [1, 3, 5, 6]),
        OpCase(name: "Sigmoid", op: .sigmoid, input: [1, 3, 5, 6]),
        OpCase(name: "Tanh", op: .tanh, input: [1, 3, 5, 6]),
        OpCase(name: "Softmax axis 1", op: .softmax(axis: 1), input: [1, 3, 5, 6]),
        OpCase(name: "Softmax axis 3", op: .softmax(axis: 3), input: [1, 3, 5, 6]),
        OpCase(name: "LRN", op: .lrn(LocalResponseNorm(size: 5, alpha: 0.4, beta: 0.75, bias: 1)), input: [1, 7, 3, 4]),
        OpCase(name: "Pad", op: .pad(begins: [0, 1, 2, 0], ends: [0, 0, 1, 3], value: -1), input: [1, 2, 4, 5]),
        OpCase(name: "GlobalAveragePool", op: .globalAveragePool, input: [1, 3, 5, 6]),
        OpCase(name: "Identity", op: .identity, input: [1, 3, 5, 6]),
        OpCase(name: "Reshape", op: .reshape(Shape([1, 6, 5, 3])), input: [1, 3, 5, 6]),
    ]

    /// Single operations in every mode, with gradients of both signs reaching them: every unit of
    /// the Mul after the op, both seeds.
    @Test(arguments: singleOpCases)
    func singleOperation(_ c: OpCase) throws {
        let graph = try signMixed(c.op, input: c.input, label: c.name)
        let net = ProjectionNet(c.name, c.input, inputKind: c.inputKind) { _, x in x }
        let harness = ProjectionHarness(graph: graph, input: net.inputData())
        try checkAllUnits(harness, label: c.name)
    }

    /// Max pooling in every configuration of the forward tests, after a Relu on integer inputs (ties
    /// everywhere, windows all zero) and on the raw integer input (ties between negative values and
    /// padding that must never win).
    @Test(arguments: maxPoolCases)
    func maxPool(_ c: PoolCase) throws {
        for relu in [true, false] {
            var b = NetBuilder("max pool \(c.testDescription)")
            let x = try b.graph.addInput(name: "x", shape: c.shape)
            var v = relu ? try b.node("relu", .relu, [x]) : x
            v = try b.node("pool", .maxPool(c.window.engineWindow), [v])
            b.graph.outputs = [try b.node("mixed", .mul, [v, try b.constant("signs", b.shape(v).dims)])]
            var g = rng("max pool input \(c.testDescription)")
            let input = integerFloats(c.count, in: relu ? -2...1 : -3 ... -1, using: &g)
            let harness = ProjectionHarness(graph: b.graph, input: input)
            try checkAllUnits(harness, label: "\(c.testDescription)\(relu ? " after Relu" : "")", maxUnits: 12)
        }
    }

    @Test(arguments: averagePoolCases)
    func averagePool(_ c: PoolCase) throws {
        for includePad in [false, true] {
            let graph = try signMixed(.averagePool(c.window.engineWindow, countIncludePad: includePad), input: c.dims,
                                      label: "average pool \(c.testDescription)")
            var g = rng("average pool input \(c.testDescription)")
            let harness = ProjectionHarness(graph: graph, input: normalFloats(c.count, using: &g))
            try checkAllUnits(harness, label: "\(c.testDescription) include pad \(includePad)", maxUnits: 8)
        }
    }

    /// Every convolution of the forward tests: the transposed convolution, the same in all modes.
    @Test(arguments: convCases)
    func convolution(_ c: ConvCase) throws {
        let (x, w, bias) = c.data()
        let conv = c.convolution(weight: w, bias: bias)
        let graph = try singleNodeGraph(.conv(conv), input: Shape([c.n, c.c, c.h, c.w]), name: "conv")
        let harness = ProjectionHarness(graph: graph, input: x, threads: 2)
        let y = harness.value("conv")
        let shape = graph.values[y].shape.dims
        let act = harness.activations(y)
        let plane = shape[2] * shape[3]
        let units: [(Int, (y: Int, x: Int)?)] = [(0, (y: 0, x: 0)), (shape[1] - 1, (y: shape[2] - 1, x: shape[3] / 2)),
                                                 (shape[1] / 2, nil)]
        for (channel, position) in units {
            // The seed, batch item 0 only; the naive transposed convolution of it.
            var seed = [Double](repeating: 0, count: act.count)
            if let p = position {
                seed[channel * plane + p.y * shape[3] + p.x] = 1
            } else {
                for i in 0..<plane { seed[channel * plane + i] = Double(act[channel * plane + i]) }
            }
            let naive = NaiveProjection.convolveTransposed(conv, seed, [c.n, c.c, c.h, c.w], shape).map(Float.init)
            for mode in ProjectionMode.allCases {
                let ours = try harness.project(y, channel: channel, at: position, mode: mode)
                let error = maxRelativeError(ours, naive)
                #expect(error <= (c.accumulation > 256 ? 1e-4 : 1e-5), "unit \(channel) \(position == nil ? "activation seed" : "at"), \(mode): \(error)")
            }
        }
    }

    /// Up to `maxUnits` units of the graph output, spread over it, with both seeds.
    private func checkAllUnits(_ harness: ProjectionHarness, label: String, maxUnits: Int = 24) throws {
        let y = harness.graph.outputs[0]
        let s = harness.graph.values[y].shape
        let values = harness.allValues()
        let total = s[1] * s[2] * s[3]
        let every = max(1, total / maxUnits)
        for u in stride(from: 0, to: total, by: every) {
            let (channel, yy, xx) = (u / (s[2] * s[3]), (u / s[3]) % s[2], u % s[3])
            try expectMatchesNaive([harness], values: values, target: y, channel: channel, at: (y: yy, x: xx), label: label)
        }
        for channel in 0..<s[1] {
            try expectMatchesNaive([harness], values: values, target: y, channel: channel, at: nil, label: label)
        }
    }

    // MARK: - The rules, by hand

    /// Each rectifier's rule in each mode on hand-picked values: x = the rectifier's input, g = the
    /// gradient reaching its output (the sign constant of the Mul after it, with a one-hot seed).
    @Test(arguments: [
        // op, expected for gradient, deconv, guided
        ("Relu", Operation.relu,
         [0, -1, 0, -2, 1, 1, 0, -1], [1, 0, 2, 0, 1, 1, 0, 0], [0, 0, 0, 0, 1, 1, 0, 0]),
        ("Clip(0, 6)", .clip(lo: 0, hi: 6),
         [0, -1, 0, -2, 1, 0, 0, -1], [1, 0, 2, 0, 1, 1, 0, 0], [0, 0, 0, 0, 1, 0, 0, 0]),
        ("Clip(-1.5, 2.5)", .clip(lo: -1.5, hi: 2.5),
         [1, -1, 2, 0, 1, 0, 0, -1], [1, -1, 2, 0, 1, 0, 0, -1], [1, 0, 2, 0, 1, 0, 0, 0]),
        ("LeakyRelu(0.1)", .leakyRelu(alpha: 0.1),
         [0.1, -1, 0.2, -2, 1, 1, -0.1, -1], [1, -0.1, 2, -0.2, 1, 1, -0.1, -0.1], [0.1, 0, 0.2, 0, 1, 1, 0, 0]),
    ] as [(String, Operation, [Float], [Float], [Float])])
    func rectifierRulesByHand(_ name: String, _ op: Operation, _ gradient: [Float], _ deconv: [Float], _ guided: [Float]) throws {
        let x: [Float] = [-1, 2, -0.5, 3, 0.5, 7, -2, 1]
        let g: [Float] = [1, -1, 2, -2, 1, 1, -1, -1]
        let graph = try makeGraph(input: Shape([1, 1, 2, 4])) { gr, input in
            let y = try gr.addNode(name: "op", op: op, inputs: [input])
            let signs = try gr.addConstant(name: "signs", shape: Shape([1, 1, 2, 4]), data: g)
            return try gr.addNode(name: "mixed", op: .mul, inputs: [y, signs])
        }
        let harness = ProjectionHarness(graph: graph, input: x)
        let target = harness.value("mixed")
        for (mode, expected) in [(ProjectionMode.gradient, gradient), (.deconv, deconv), (.guided, guided)] {
            for i in 0..<8 {
                let p = try harness.project(target, channel: 0, at: (y: i / 4, x: i % 4), mode: mode)
                var want = [Float](repeating: 0, count: 8)
                want[i] = expected[i]
                #expect(maxAbsoluteError(p, want) <= 1e-7, "\(name) \(mode) at x = \(x[i]), g = \(g[i]): \(p[i]), want \(expected[i])")
            }
        }
    }

    /// Ties go to the first maximum in row-major order, a window that is all zero after a Relu
    /// included: deconv then sends the whole gradient to its top-left element.
    @Test func maxPoolTiesByHand() throws {
        let x: [Float] = [0, 0, 5, 5,
                          0, 0, 5, 1,
                          -1, 3, 2, 2,
                          3, -1, 2, 2]
        let graph = try makeGraph(input: Shape([1, 1, 4, 4])) { g, input in
            let r = try g.addNode(name: "relu", op: .relu, inputs: [input])
            return try g.addNode(name: "pool", op: .maxPool(Window(kernelH: 2, kernelW: 2, strideH: 2, strideW: 2)), inputs: [r])
        }
        let harness = ProjectionHarness(graph: graph, input: x)
        let pool = harness.value("pool")
        #expect(harness.activations(pool) == [0, 5, 3, 2])
        let switches = [0, 2, 9, 10]
        for mode in ProjectionMode.allCases {
            for (i, s) in switches.enumerated() {
                let p = try harness.project(pool, channel: 0, at: (y: i / 2, x: i % 2), mode: mode)
                var want = [Float](repeating: 0, count: 16)
                // The all-zero window's first element has x = 0: only deconv ignores that.
                want[s] = (s == 0 && mode != .deconv) ? 0 : 1
                #expect(p == want, "\(mode), window \(i)")
            }
            // The activation seed: each window's maximum goes back to its switch.
            var want = [Float](repeating: 0, count: 16)
            want[2] = 5; want[9] = 3; want[10] = 2
            #expect(try harness.project(pool, channel: 0, at: nil, mode: mode) == want, "\(mode), activation seed")
        }
    }

    /// Padding never wins, even against negative values; two windows with the same switch add up.
    @Test func maxPoolPaddingNeverWinsByHand() throws {
        let x: [Float] = [-5, -4, -6,
                          -3, -9, -2,
                          -7, -1, -8]
        let graph = try singleNodeGraph(.maxPool(Window(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2,
                                                        padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
                                        input: Shape([1, 1, 3, 3]), name: "pool")
        let harness = ProjectionHarness(graph: graph, input: x)
        let pool = harness.value("pool")
        #expect(harness.activations(pool) == [-3, -2, -1, -1])
        for mode in ProjectionMode.allCases {
            var want = [Float](repeating: 0, count: 9)
            want[3] = -3; want[5] = -2; want[7] = -2
            #expect(try harness.project(pool, channel: 0, at: nil, mode: mode) == want, "\(mode)")
            want = [Float](repeating: 0, count: 9)
            want[7] = 1
            #expect(try harness.project(pool, channel: 0, at: (y: 1, x: 1), mode: mode) == want, "\(mode)")
        }
    }

    /// Ceil-mode overhang never wins: a window hanging over the edge picks its first inside element.
    @Test func maxPoolCeilOverhangByHand() throws {
        let graph = try singleNodeGraph(.maxPool(Window(kernelH: 2, kernelW: 2, strideH: 2, strideW: 2, ceilMode: true)),
                                        input: Shape([1, 1, 3, 3]), name: "pool")
        let harness = ProjectionHarness(graph: graph, input: [Float](repeating: 0, count: 9))
        let pool = harness.value("pool")
        for mode in ProjectionMode.allCases {
            for (i, s) in [0, 2, 6, 8].enumerated() {
                var want = [Float](repeating: 0, count: 9)
                want[s] = 1
                #expect(try harness.project(pool, channel: 0, at: (y: i / 2, x: i % 2), mode: mode) == want, "\(mode), window \(i)")
            }
        }
    }

    /// Where a tensor feeds two ops, their contributions are summed before its producer's rule is
    /// applied: with contributions +1 and −2 into a Relu, deconv gives max(−1, 0) = 0, not 1.
    @Test func contributionsSumBeforeTheRectifier() throws {
        let graph = try makeGraph(input: Shape([1, 1, 1, 1])) { g, input in
            let r = try g.addNode(name: "relu", op: .relu, inputs: [input])
            let a = try g.addNode(name: "a", op: .mul, inputs: [r, try g.addConstant(name: "one", shape: Shape([1]), data: [1])])
            let b = try g.addNode(name: "b", op: .mul, inputs: [r, try g.addConstant(name: "minus2", shape: Shape([1]), data: [-2])])
            return try g.addNode(name: "sum", op: .add, inputs: [a, b])
        }
        let harness = ProjectionHarness(graph: graph, input: [0.5])
        let sum = harness.value("sum")
        #expect(try harness.project(sum, channel: 0, at: (y: 0, x: 0), mode: .gradient) == [-1])
        #expect(try harness.project(sum, channel: 0, at: (y: 0, x: 0), mode: .deconv) == [0])
        #expect(try harness.project(sum, channel: 0, at: (y: 0, x: 0), mode: .guided) == [0])
        // Through a residual Add the sum is taken the same way.
        let residual = try makeGraph(input: Shape([1, 1, 1, 1])) { g, input in
            let r = try g.addNode(name: "relu", op: .relu, inputs: [input])
            let neg = try g.addNode(name: "neg", op: .mul, inputs: [r, try g.addConstant(name: "k", shape: Shape([1]), data: [-3])])
            return try g.addNode(name: "sum", op: .add, inputs: [neg, r])
        }
        let h2 = ProjectionHarness(graph: residual, input: [2])
        #expect(try h2.project(h2.value("sum"), channel: 0, at: (y: 0, x: 0), mode: .gradient) == [-2])
        #expect(try h2.project(h2.value("sum"), channel: 0, at: (y: 0, x: 0), mode: .deconv) == [0])
        // The activation seed is −4: the Relu receives (−4)·(−3) + (−4) = 8.
        #expect(try h2.project(h2.value("sum"), channel: 0, at: nil, mode: .gradient) == [8])
        #expect(try h2.project(h2.value("sum"), channel: 0, at: nil, mode: .deconv) == [8])
    }
}
