@testable import Engine
import TestSupport
import Testing

/// A fused convolution's own output is a planned step: the forward pass does not write it, and
/// `materialize` writes exactly what an unfused convolution computes, once per forward pass.
@Suite struct MaterializeTests {
    /// x → conv → relu; with `keep`, the convolution is also a graph output (so not fused).
    static func graph(keep: Bool) throws -> (Graph, conv: Int, relu: Int) {
        var g = Graph()
        let x = try g.addInput(name: "x", shape: Shape([1, 3, 12, 11]))
        var r = rng("materialize weights")
        let w = Window(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)
        let conv = try g.addNode(name: "conv", op: .conv(Convolution(
            window: w, groups: 1, outChannels: 5, inChannelsPerGroup: 3,
            weight: normalFloats(5 * 3 * 9, deviation: 0.3, using: &r), bias: normalFloats(5, using: &r))), inputs: [x])
        let relu = try g.addNode(name: "relu", op: .relu, inputs: [conv])
        g.outputs = keep ? [relu, conv] : [relu]
        return (g, conv, relu)
    }

    /// The raw region of `value`, read without the buffer's check.
    static func raw(_ network: Network, _ value: Int) -> [Float] {
        Array(UnsafeBufferPointer(start: network.arena.base + network.offsets[value],
                                  count: network.graph.values[value].shape.count))
    }

    @Test(arguments: [1, 2])
    func forwardLeavesItAndMaterializeWritesIt(threads: Int) throws {
        let (fusedGraph, conv, relu) = try Self.graph(keep: false)
        let (plainGraph, _, _) = try Self.graph(keep: true)
        let fused = Network(graph: fusedGraph, threads: threads), plain = Network(graph: plainGraph, threads: threads)
        #expect(fused.isPreActivation(conv) && !fused.isPreActivation(relu))
        #expect(!plain.isPreActivation(conv), "a convolution that is a graph output is not fused")
        for frame in 0..<2 {
            var r = rng("materialize input \(frame)")
            let x = normalFloats(fused.input.count, using: &r)
            for n in [fused, plain] { _ = n.input.update(fromContentsOf: x) }
            // Poison the convolution's region: what the forward pass writes shows, what it skips stays NaN.
            (fused.arena.base + fused.offsets[conv]).update(repeating: .nan, count: fusedGraph.values[conv].shape.count)
            fused.forward()
            plain.forward()
            #expect(Self.raw(fused, conv).allSatisfy { $0.isNaN }, "frame \(frame): the forward pass wrote the pre-activation")
            #expect(Array(fused.buffer(relu)) == Array(plain.buffer(relu)))
            fused.materialize(conv)
            #expect(Array(fused.buffer(conv)) == Array(plain.buffer(conv)), "frame \(frame)")
            // Once per pass: a second call runs nothing.
            (fused.arena.base + fused.offsets[conv]).update(repeating: .nan, count: fusedGraph.values[conv].shape.count)
            fused.materialize(conv)
            #expect(Self.raw(fused, conv).allSatisfy { $0.isNaN }, "frame \(frame): materialized twice in one pass")
            // Materializing a value the pass wrote changes nothing.
            let before = Array(fused.buffer(relu))
            fused.materialize(relu)
            #expect(Array(fused.buffer(relu)) == before)
        }
    }
}
