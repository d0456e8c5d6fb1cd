import Engine
import Testing
import TestSupport
import Visualization

/// The grid's first layer: the rectified output of a spatial convolution at the deepest map that
/// is still at least 1/16 of the input (not a signed linear bottleneck, not a 1×1 remix).
@Suite struct DefaultLayerTests {
    /// One inverted-residual block and its neighbours on a 16×16 input, every map 16×16 (≥ 1/16),
    /// then the class head: stem 3×3 → relu6 → expand 1×1 → relu6 → depthwise 3×3 → relu6 →
    /// project 1×1 → add(stem) → expand 1×1 → relu6 → pool → dense. `spatialDepthwise` false
    /// makes the depthwise 1×1.
    func builder(spatialDepthwise: Bool = true, rectifiers: Bool = true) throws -> SnapshotBuilder {
        var rng = SplitMix64(seed: 3)
        let graph = try makeGraph(input: Shape([1, 3, 16, 16])) { g, x in
            func conv(_ name: String, _ input: Int, in cin: Int, out: Int, k: Int, depthwise: Bool = false) throws -> Int {
                let p = k / 2
                let c = Convolution(window: Window(kernelH: k, kernelW: k, padTop: p, padLeft: p, padBottom: p, padRight: p),
                                    groups: depthwise ? cin : 1, outChannels: out, inChannelsPerGroup: depthwise ? 1 : cin,
                                    weight: uniformFloats(out * (depthwise ? 1 : cin) * k * k, using: &rng), bias: nil)
                return try g.addNode(name: name, op: .conv(c), inputs: [input])
            }
            func relu6(_ name: String, _ input: Int) throws -> Int {
                rectifiers ? try g.addNode(name: name, op: .clip(lo: 0, hi: 6), inputs: [input])
                           : try g.addNode(name: name, op: .identity, inputs: [input])
            }
            let stem = try relu6("stem_relu6", try conv("stem", x, in: 3, out: 4, k: 3))
            let expand = try relu6("expand_relu6", try conv("expand", stem, in: 4, out: 8, k: 1))
            let dw = try relu6("dw_relu6", try conv("dw", expand, in: 8, out: 8, k: spatialDepthwise ? 3 : 1, depthwise: true))
            let project = try conv("project", dw, in: 8, out: 4, k: 1)
            let add = try g.addNode(name: "add", op: .add, inputs: [project, stem])
            let expand2 = try relu6("expand2_relu6", try conv("expand2", add, in: 4, out: 8, k: 1))
            let pool = try g.addNode(name: "pool", op: .globalAveragePool, inputs: [expand2])
            let flat = try g.addNode(name: "flat", op: .reshape(Shape([1, 8])), inputs: [pool])
            return try g.addNode(name: "logits", op: .dense(Dense(inFeatures: 8, outFeatures: 3, weight: uniformFloats(24, using: &rng), bias: nil)),
                                 inputs: [flat])
        }
        return SnapshotBuilder(network: Network(graph: graph, threads: 1), labels: nil,
                               encoding: InputEncoding(mean: [0, 0, 0], std: [1, 1, 1], pixelRange: 1, bgr: false))
    }

    @Test func theRectifiedOutputOfTheLastSpatialConvolutionIsShownFirst() throws {
        let b = try builder()
        #expect(b.layerNames[b.defaultLayer] == "dw_relu6", "not the later 1×1 expansion nor the block's Add")
    }

    @Test func aRectifiedOneByOneExpansionIsPassedOverForAnEarlierSpatialOne() throws {
        let b = try builder(spatialDepthwise: false)
        // The depthwise is 1×1 now; the stem is 3×3 and rectified.
        #expect(b.layerNames[b.defaultLayer] == "stem_relu6")
    }

    @Test func withoutRectifiersTheLastBlockOutput() throws {
        let b = try builder(rectifiers: false)
        #expect(b.layerNames[b.defaultLayer] == "add")
    }
}
