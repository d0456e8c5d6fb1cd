import Engine
import TestSupport
import Testing

@Suite("Projection: planning and state")
struct ProjectionPlanningTests {
    static var residualNet: ProjectionNet { projectionEndToEndNets.first { $0.name.hasPrefix("Residual") }! }

    /// One projector taken through units of the same layer in every mode, then other layers and back,
    /// gives at each step exactly what a fresh projector gives for that unit alone.
    @Test(arguments: [1, 2])
    func noStateLeaksBetweenCalls(threads: Int) throws {
        let net = Self.residualNet
        let graph = try net.graph()
        let harness = ProjectionHarness(graph: graph, input: net.inputData(), threads: threads)
        typealias Call = (layer: String, channel: Int, at: (y: Int, x: Int)?, mode: ProjectionMode)
        let calls: [Call] = [
            ("sum", 2, (y: 5, x: 7), .deconv), ("sum", 2, (y: 5, x: 7), .guided), ("sum", 2, (y: 5, x: 7), .gradient),
            ("sum", 4, nil, .gradient), ("sum", 0, (y: 0, x: 11), .deconv), ("sum", 4, nil, .guided),
            ("prob", 3, nil, .guided), ("pool", 1, (y: 2, x: 3), .deconv), ("relu6", 5, nil, .deconv),
            ("sum", 2, (y: 5, x: 7), .deconv), ("prob", 3, nil, .guided), ("cat", 7, nil, .gradient),
            ("sum", 4, nil, .gradient),
        ]
        for call in calls {
            let value = harness.value(call.layer)
            let ours = try harness.project(value, channel: call.channel, at: call.at, mode: call.mode)
            let fresh = try freshProjection(harness.network, value, channel: call.channel, at: call.at, mode: call.mode)
            #expect(ours == fresh, "\(call.layer) unit \(call.channel) \(call.mode)")
            #expect(ours.contains { $0 != 0 }, "\(call.layer) unit \(call.channel) \(call.mode)")
        }
    }

    /// After a forward pass over a new input, every projection is that input's: the same as a new
    /// network's and projector's that only ever saw it.
    @Test func followsNewFrames() throws {
        let net = Self.residualNet
        let graph = try net.graph()
        let harness = ProjectionHarness(graph: graph, input: net.inputData(), threads: 2)
        for frame in 0..<3 {
            var g = rng("frame \(frame)")
            let input = normalFloats(net.input.reduce(1, *), using: &g)
            harness.forward(input)
            let fresh = ProjectionHarness(graph: graph, input: input, threads: 2)
            for (layer, mode) in [("pool", ProjectionMode.deconv), ("k2", .guided), ("prob", .gradient), ("pool", .guided)] {
                let v = harness.value(layer)
                let unit = strongestUnit(graph, v, harness.activations(v))
                for at in [(y: unit.y, x: unit.x), nil] as [(y: Int, x: Int)?] {
                    let ours = try harness.project(v, channel: unit.channel, at: at, mode: mode)
                    #expect(ours == (try fresh.project(v, channel: unit.channel, at: at, mode: mode)), "frame \(frame), \(layer), \(mode)")
                }
            }
        }
    }

    /// A projection reads the forward pass and leaves every layer's output as it was.
    @Test func forwardValuesUntouched() throws {
        let net = Self.residualNet
        let harness = ProjectionHarness(graph: try net.graph(), input: net.inputData())
        let before = harness.allValues()
        for mode in ProjectionMode.allCases {
            for layer in ["prob", "k2", "sum"] {
                _ = try harness.project(harness.value(layer), channel: 1, at: nil, mode: mode)
            }
        }
        let after = harness.allValues()
        for i in before.indices { #expect(before[i] == after[i], "\(harness.graph.values[i].name)") }
    }

    /// Projecting from a layer equals projecting from the same layer of the network cut right after
    /// it: nothing beside or after the layer takes part.
    @Test(arguments: projectionEndToEndNets)
    func sameAsTruncatedNetwork(_ net: ProjectionNet) throws {
        let graph = try net.graph()
        let full = ProjectionHarness(graph: graph, input: net.inputData())
        for target in net.targetValues(graph) {
            let name = graph.values[target].name
            let cut = ProjectionHarness(graph: try subgraph(graph, upTo: target), input: net.inputData())
            let unit = strongestUnit(graph, target, full.activations(target))
            for mode in ProjectionMode.allCases {
                for at in [(y: unit.y, x: unit.x), nil] as [(y: Int, x: Int)?] {
                    let a = try full.project(target, channel: unit.channel, at: at, mode: mode)
                    let b = try cut.project(cut.value(name), channel: unit.channel, at: at, mode: mode)
                    #expect(maxRelativeError(a, b) <= 1e-6, "\(name) \(mode) \(at == nil ? "activation seed" : "at")")
                }
            }
        }
    }

    /// Layers whose backward pass would produce NaN, beside the unit's layer (earlier in execution
    /// order) and after it, never run: the projection stays finite and equals the truncated
    /// network's, also right after a projection through those layers filled their gradients with NaN.
    @Test func onlyNodesBelowTheUnitRun() throws {
        var r = rng("nan neighbours")
        let window = Window(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)
        let good = Convolution(window: window, groups: 1, outChannels: 3, inChannelsPerGroup: 2,
                               weight: uniformFloats(54, in: -0.5...0.5, using: &r), bias: uniformFloats(3, using: &r))
        let poisoned = Convolution(window: window, groups: 1, outChannels: 3, inChannelsPerGroup: 2,
                                   weight: [Float](repeating: .nan, count: 54), bias: nil)
        let graph = try makeGraph(input: Shape([1, 2, 6, 6])) { g, x in
            let side = try g.addNode(name: "side", op: .conv(poisoned), inputs: [x])           // before the unit, beside it
            let relu = try g.addNode(name: "relu", op: .relu, inputs: [try g.addNode(name: "conv", op: .conv(good), inputs: [x])])
            let nan = try g.addConstant(name: "nan", shape: Shape([1]), data: [.nan])
            let later = try g.addNode(name: "later", op: .mul, inputs: [relu, nan])           // after the unit
            let sum = try g.addNode(name: "sum", op: .add, inputs: [side, later])
            return try g.addNode(name: "out", op: .leakyRelu(alpha: 0.1), inputs: [sum])
        }
        var ri = rng("nan neighbours input")
        let input = normalFloats(72, using: &ri)
        let full = ProjectionHarness(graph: graph, input: input, threads: 2)
        let cut = ProjectionHarness(graph: try subgraph(graph, upTo: graph.value(named: "relu")!), input: input)
        let relu = full.value("relu")
        let unit = strongestUnit(graph, relu, full.activations(relu))
        for mode in ProjectionMode.allCases {
            for at in [(y: unit.y, x: unit.x), nil] as [(y: Int, x: Int)?] {
                // Through the poisoned layers first: NaN everywhere.
                let poisonedProjection = try full.project(full.value("out"), channel: 1, at: (y: 2, x: 2), mode: mode)
                #expect(poisonedProjection.contains { $0.isNaN })
                let ours = try full.project(relu, channel: unit.channel, at: at, mode: mode)
                let want = try cut.project(cut.value("relu"), channel: unit.channel, at: at, mode: mode)
                #expect(ours.allSatisfy { $0.isFinite }, "\(mode)")
                #expect(ours.contains { $0 != 0 }, "\(mode)")
                #expect(maxRelativeError(ours, want) <= 1e-6, "\(mode)")
            }
        }
    }
}
