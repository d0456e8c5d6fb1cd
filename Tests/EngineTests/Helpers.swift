// Glue between the test cases and the engine: building engine parameters from test specs.

import Engine
import TestSupport
import Testing

extension WindowSpec {
    /// The engine's window for this spec.
    var engineWindow: Window {
        Window(kernelH: kernel.h, kernelW: kernel.w, strideH: strides.h, strideW: strides.w,
               dilationH: dilations.h, dilationW: dilations.w,
               padTop: pads[0], padLeft: pads[1], padBottom: pads[2], padRight: pads[3], ceilMode: ceilMode)
    }
}

/// Relative tolerance for a sum of `terms` products: 1e-5, or 1e-4 for long accumulations.
func tolerance(accumulating terms: Int) -> Float { terms > 256 ? 1e-4 : 1e-5 }

/// A fresh generator for one test case, seeded from its description so cases differ but repeat.
func rng(_ label: String) -> SplitMix64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in label.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
    return SplitMix64(seed: h)
}

/// Expects value `name` to match `reference` within `tolerance` (relative) after every run.
func expectClose(_ run: NetworkRun, _ name: String, _ reference: [Float], tolerance: Float = 1e-5,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    for r in run.threadCounts.indices {
        let ours = run.value(name, run: r)
        let error = maxRelativeError(ours, reference)
        #expect(error <= tolerance,
                "'\(name)' with \(run.threadCounts[r]) thread(s): relative error \(error), first mismatch at \(firstMismatch(ours, reference, tolerance: tolerance * (reference.map(abs).max() ?? 0)).map(String.init) ?? "-")",
                sourceLocation: sourceLocation)
    }
}

/// Expects value `name` to equal `reference` exactly after every run.
func expectEqual(_ run: NetworkRun, _ name: String, _ reference: [Float],
                 sourceLocation: SourceLocation = #_sourceLocation) {
    for r in run.threadCounts.indices {
        let ours = run.value(name, run: r)
        let at = firstMismatch(ours, reference)
        #expect(at == nil,
                "'\(name)' with \(run.threadCounts[r]) thread(s) differs at \(at ?? -1): \(at.map { $0 < ours.count ? ours[$0] : .nan } ?? 0) vs \(at.map { $0 < reference.count ? reference[$0] : .nan } ?? 0)",
                sourceLocation: sourceLocation)
    }
}
