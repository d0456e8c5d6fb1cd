import Foundation

/// `renderProjection` with its scratch kept between frames: the same pictures, drawn into a
/// caller's RGB buffer, allocating nothing once it has seen the input size.
public final class ProjectionRenderer: @unchecked Sendable {
    private var values: [Float] = []
    private var magnitude: [Float] = []
    private var select: [Float] = []
    private var blurTemp: [Float] = []
    private var kernel: [Float] = []
    private var kernelSigma: Float = .nan

    public init() {}

    /// Renders a [1, 3, H, W] projection as `filter` says into `out` (H·W·3 bytes, RGB).
    public func render(_ g: UnsafeBufferPointer<Float>, height h: Int, width w: Int, bgr: Bool = false,
                       filter: ProjectionFilter, into out: UnsafeMutableBufferPointer<UInt8>) {
        let plane = h * w
        precondition(g.count == 3 * plane && out.count >= 3 * plane, "projection of \(g.count) values for 3×\(h)×\(w)")
        let options = filter.rendering
        if values.count != 3 * plane {
            values = [Float](repeating: 0, count: 3 * plane)
            magnitude = [Float](repeating: 0, count: plane)
            select = [Float](repeating: 0, count: 3 * plane)
            blurTemp = [Float](repeating: 0, count: plane)
        }
        values.withUnsafeMutableBufferPointer { v in
            v.baseAddress!.update(from: g.baseAddress!, count: 3 * plane)
            if options.blurSigma > 0 {
                for c in 0..<3 { blur(v.baseAddress! + c * plane, height: h, width: w, sigma: options.blurSigma) }
            }
        }
        switch options.style {
        case .signed:
            let scale = percentile(of: values, count: 3 * plane, options.percentile)
            values.withUnsafeBufferPointer { v in
                for i in 0..<plane {
                    var sum = 0
                    for c in 0..<3 {
                        let x = v[(bgr ? 2 - c : c) * plane + i]
                        let t = scale > 0 ? x / scale : 0
                        let b = UInt8(max(0, min(255, (127.5 + 127.5 * t).rounded())))
                        out[i * 3 + c] = b
                        sum += Int(b)
                    }
                    if filter == .gray {
                        let m = UInt8((sum + 1) / 3)
                        out[i * 3] = m; out[i * 3 + 1] = m; out[i * 3 + 2] = m
                    }
                }
            }
        case .absolute:
            values.withUnsafeBufferPointer { v in
                magnitude.withUnsafeMutableBufferPointer { m in
                    for i in 0..<plane { m[i] = abs(v[i]) + abs(v[plane + i]) + abs(v[2 * plane + i]) }
                }
            }
            let scale = percentile(of: magnitude, count: plane, options.percentile)
            magnitude.withUnsafeBufferPointer { m in
                for i in 0..<plane {
                    let t = scale > 0 ? min(m[i] / scale, 1) : 0
                    let b = UInt8((255 * t).rounded())
                    out[i * 3] = b; out[i * 3 + 1] = b; out[i * 3 + 2] = b
                }
            }
        }
    }

    /// The `p`-th percentile of |values[0..<count]| by nearest rank, as `renderProjection` takes it
    /// (a selection on a scratch copy instead of a sort).
    private func percentile(of source: [Float], count n: Int, _ p: Float) -> Float {
        guard n > 0 else { return 0 }
        let rank = Int((Float(n - 1) * max(0, min(100, p)) / 100).rounded())
        return select.withUnsafeMutableBufferPointer { s in
            source.withUnsafeBufferPointer { src in
                for i in 0..<n { s[i] = abs(src[i]) }
            }
            var lo = 0, hi = n - 1
            while lo < hi {
                let pivot = s[(lo + hi) / 2]
                var i = lo, j = hi
                while i <= j {
                    while s[i] < pivot { i += 1 }
                    while s[j] > pivot { j -= 1 }
                    if i <= j { s.swapAt(i, j); i += 1; j -= 1 }
                }
                if rank <= j { hi = j } else if rank >= i { lo = i } else { break }
            }
            return s[rank]
        }
    }

    /// Separable Gaussian blur of one plane in place (edges clamp), as `gaussianBlur`; the kernel is
    /// rebuilt only when sigma changes.
    private func blur(_ plane: UnsafeMutablePointer<Float>, height h: Int, width w: Int, sigma: Float) {
        if sigma != kernelSigma || kernel.isEmpty {
            kernel = gaussianKernel(sigma: sigma)
            kernelSigma = sigma
        }
        kernel.withUnsafeBufferPointer { k in
            blurTemp.withUnsafeMutableBufferPointer { tmp in
                separableBlur(plane, height: h, width: w, kernel: k, scratch: tmp.baseAddress!)
            }
        }
    }
}
