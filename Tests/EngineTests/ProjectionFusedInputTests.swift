import Engine
import TestSupport
import Testing

/// A LeakyRelu with a negative slope reads its input (y > 0 no longer tells x > 0), and after a
/// convolution that input is the fused pair's pre-activation output, computed only when
/// materialized.
@Suite("Projection: rectifiers reading a fused convolution's output")
struct ProjectionFusedInputTests {
    /// Large enough that the rectifier's backward step runs as several tasks (over 8192 elements),
    /// over several frames whose inputs differ, with one thread and with two.
    ///
    /// With two threads this used to hang: the first task of the LeakyRelu's backward step
    /// recomputed the convolution's output through `Network.buffer`, which runs a `parallelFor` on
    /// the same (non-reentrant) pool from inside the running loop, while the other tasks could
    /// already read that output before it was recomputed. The projector now materializes it before
    /// the backward pass starts.
    @Test(.timeLimit(.minutes(1)), arguments: [1, 2])
    func negativeSlopeLeakyReluOverManyTasks(threads: Int) throws {
        try negativeSlopeLeakyRelu(threads: threads)
    }

    private func negativeSlopeLeakyRelu(threads: Int) throws {
        let net = ProjectionNet("fused LeakyRelu(-0.3), many elements", [1, 2, 40, 40]) { b, x in
            try b.node("act", .leakyRelu(alpha: -0.3), [try b.conv("conv", x, out: 8, pads: [1, 1, 1, 1])])
        }
        let graph = try net.graph()
        let harness = ProjectionHarness(graph: graph, input: net.inputData(), threads: threads)
        let act = harness.value("act")
        #expect(graph.values[act].shape.count > 8192)
        for frame in 0..<4 {
            var g = rng("frame \(frame)")
            harness.forward(normalFloats(net.input.reduce(1, *), using: &g))
            // The harness materializes every value for the naive pass; the forward pass before
            // each projection leaves the convolution's output for the projector to materialize.
            let values = harness.allValues()
            for mode in [ProjectionMode.gradient, .guided] {
                for at in [(y: 20, x: 13), nil] as [(y: Int, x: Int)?] {
                    harness.forward(harness.input, materializing: false)
                    let ours = try harness.project(act, channel: 5, at: at, mode: mode)
                    let naive = NaiveProjection.project(graph: graph, values: values, target: act, channel: 5,
                                                        at: at, mode: mode).map(Float.init)
                    #expect(maxRelativeError(ours, naive) <= 1e-5, "frame \(frame), \(mode), \(at == nil ? "activation seed" : "at")")
                }
            }
        }
    }
}
