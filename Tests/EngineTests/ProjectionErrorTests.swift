import Engine
import TestSupport
import Testing

@Suite("Projection: bad units")
struct ProjectionErrorTests {
    /// conv_out: [1, 5, 4, 6]; logits: [1, 7].
    static func harness() throws -> ProjectionHarness {
        let graph = try makeGraph(input: Shape([1, 2, 4, 6])) { g, x in
            var r = rng("projection errors")
            let conv = Convolution(window: Window(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
                                   groups: 1, outChannels: 5, inChannelsPerGroup: 2,
                                   weight: uniformFloats(90, using: &r), bias: nil)
            let c = try g.addNode(name: "conv_out", op: .conv(conv), inputs: [x])
            let f = try g.addNode(name: "flat", op: .reshape(Shape([1, 120])), inputs: [c])
            return try g.addNode(name: "logits", op: .dense(Dense(inFeatures: 120, outFeatures: 7,
                                                                  weight: uniformFloats(840, using: &r), bias: nil)),
                                 inputs: [f])
        }
        var r = rng("projection errors input")
        return ProjectionHarness(graph: graph, input: normalFloats(48, using: &r))
    }

    @Test(arguments: [-1, 5, 6, 100])
    func channelOutOfRange(_ channel: Int) throws {
        let h = try Self.harness()
        let conv = h.value("conv_out")
        let expected = ProjectionError.channelOutOfRange(layer: "conv_out", channel: channel, channels: 5)
        #expect(throws: expected) { try h.projector.validate(value: conv, channel: channel, at: nil) }
        #expect(throws: expected) { try h.projector.validate(value: conv, channel: channel, at: (y: 0, x: 0)) }
        for mode in ProjectionMode.allCases {
            #expect(throws: expected) { try h.projector.project(value: conv, channel: channel, at: nil, mode: mode) }
        }
        let text = expected.description
        #expect(text.contains("'conv_out'") && text.contains("0 to 4") && text.contains("\(channel)"), "\(text)")
    }

    @Test(arguments: [(4, 0), (0, 6), (-1, 0), (0, -1), (4, 6), (100, 3)])
    func positionOutsideTheMap(_ y: Int, _ x: Int) throws {
        let h = try Self.harness()
        let conv = h.value("conv_out")
        let expected = ProjectionError.positionOutsideMap(layer: "conv_out", y: y, x: x, height: 4, width: 6)
        #expect(throws: expected) { try h.projector.validate(value: conv, channel: 0, at: (y: y, x: x)) }
        for mode in ProjectionMode.allCases {
            #expect(throws: expected) { try h.projector.project(value: conv, channel: 2, at: (y: y, x: x), mode: mode) }
        }
        let text = expected.description
        #expect(text.contains("'conv_out'") && text.contains("Y from 0 to 3") && text.contains("X from 0 to 5")
                && text.contains("\(y),\(x)") && text.contains("4×6"), "\(text)")
    }

    /// The corners of the valid range are accepted.
    @Test func validExtremes() throws {
        let h = try Self.harness()
        let conv = h.value("conv_out")
        for channel in [0, 4] {
            for p in [(y: 0, x: 0), (y: 3, x: 5), (y: 0, x: 5), (y: 3, x: 0)] {
                try h.projector.validate(value: conv, channel: channel, at: p)
                _ = try h.projector.project(value: conv, channel: channel, at: p, mode: .guided)
            }
        }
        try h.projector.validate(value: h.value("logits"), channel: 6, at: nil)
    }

    /// A fully connected layer has channels 0 to K−1 and no map: any position is ignored.
    @Test func fullyConnectedUnits() throws {
        let h = try Self.harness()
        let logits = h.value("logits")
        let expected = ProjectionError.channelOutOfRange(layer: "logits", channel: 7, channels: 7)
        #expect(throws: expected) { try h.projector.project(value: logits, channel: 7, at: (y: 0, x: 0), mode: .deconv) }
        #expect(throws: expected) { try h.projector.project(value: logits, channel: 7, at: nil, mode: .deconv) }
        #expect(expected.description.contains("0 to 6"))
        let a = try h.project(logits, channel: 6, at: (y: 50, x: -2), mode: .gradient)
        let b = try h.project(logits, channel: 6, at: (y: 0, x: 0), mode: .gradient)
        #expect(a == b)
    }

    /// A refused unit leaves the projector as it was: the next projection equals a fresh one's.
    @Test func refusalLeavesNoTrace() throws {
        let h = try Self.harness()
        let conv = h.value("conv_out"), logits = h.value("logits")
        _ = try h.project(conv, channel: 1, at: (y: 2, x: 2), mode: .deconv)
        #expect(throws: ProjectionError.self) { try h.projector.project(value: logits, channel: 9, at: nil, mode: .gradient) }
        #expect(throws: ProjectionError.self) { try h.projector.project(value: conv, channel: 0, at: (y: 9, x: 0), mode: .gradient) }
        let after = try h.project(conv, channel: 3, at: (y: 1, x: 4), mode: .guided)
        let fresh = try freshProjection(h.network, conv, channel: 3, at: (y: 1, x: 4), mode: .guided)
        #expect(after == fresh)
    }

    /// An unknown layer name (found before any value index exists) reads as one sentence naming it.
    @Test func unknownLayerDescription() {
        let text = ProjectionError.unknownLayer("blk99_add").description
        #expect(text.contains("'blk99_add'") && text.contains("inspect"), "\(text)")
    }
}
