// The horizontal pass of a , over raw pointers.

/// The horizontal pass over raw pointers, specialised for 3 and 4 channels.
struct HorizontalPlan {
    let first: UnsafePointer<Int32>
    let count: UnsafePointer<Int32>
    let weights: UnsafePointer<Int32>
    let taps: Int
    let outputWidth: Int

    @inline(__always) private func clip(_ sum: Int32) -> UInt8 {
        UInt8(clamping: sum &>> AxisWeights.precisionBits)
    }

    func run3(_ source: UnsafePointer<UInt8>, sourceStride: Int, rows: Int,
              into output: UnsafeMutablePointer<UInt8>, outputStride: Int) {
        for r in 0..<rows {
            let row = source + r * sourceStride
            let out = output + r * outputStride
            for x in 0..<outputWidth {
                let k = weights + x * taps
                var p = row + Int(first[x]) * 3
                var s0 = AxisWeights.half, s1 = AxisWeights.half, s2 = AxisWeights.half
                for t in 0..<Int(count[x]) {
                    let w = k[t]
                    s0 &+= Int32(p[0]) &* w
                    s1 &+= Int32(p[1]) &* w
                    s2 &+= Int32(p[2]) &* w
                    p += 3
                }
                out[x * 3] = clip(s0)
                out[x * 3 + 1] = clip(s1)
                out[x * 3 + 2] = clip(s2)
            }
        }
    }

    func run4(_ source: UnsafePointer<UInt8>, sourceStride: Int, rows: Int,
              into output: UnsafeMutablePointer<UInt8>, outputStride: Int) {
        for r in 0..<rows {
            let row = source + r * sourceStride
            let out = output + r * outputStride
            for x in 0..<outputWidth {
                let k = weights + x * taps
                var p = row + Int(first[x]) * 4
                var s0 = AxisWeights.half, s1 = AxisWeights.half, s2 = AxisWeights.half, s3 = AxisWeights.half
                for t in 0..<Int(count[x]) {
                    let w = k[t]
                    s0 &+= Int32(p[0]) &* w
                    s1 &+= Int32(p[1]) &* w
                    s2 &+= Int32(p[2]) &* w
                    s3 &+= Int32(p[3]) &* w
                    p += 4
                }
                out[x * 4] = clip(s0)
                out[x * 4 + 1] = clip(s1)
                out[x * 4 + 2] = clip(s2)
                out[x * 4 + 3] = clip(s3)
            }
        }
    }

    func runAny(channels: Int, _ source: UnsafePointer<UInt8>, sourceStride: Int, rows: Int,
                into output: UnsafeMutablePointer<UInt8>, outputStride: Int) {
        for r in 0..<rows {
            let row = source + r * sourceStride
            let out = output + r * outputStride
            for x in 0..<outputWidth {
                let k = weights + x * taps
                let start = Int(first[x])
                for c in 0..<channels {
                    var s = AxisWeights.half
                    for t in 0..<Int(count[x]) {
                        s &+= Int32(row[(start + t) * channels + c]) &* k[t]
                    }
                    out[x * channels + c] = clip(s)
                }
            }
        }
    }
}
