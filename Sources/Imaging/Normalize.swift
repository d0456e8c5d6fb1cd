// 8-bit RGB pixels → a normalised float32 model input, NCHW planar.

/// The one input normalizer: packed 8-bit RGB → one normalised NCHW sample,
/// `destination[c · H · W + y · W + x]` for output channel `c`, with
///
///     x = (pixel · (pixelRange / 255) − mean[c]) / std[c]
///
/// computed in Float exactly as `Tests/reference/preprocessing.py` does with NumPy. Output channel
/// `c` is source channel `c` (RGB) or `2 − c` (BGR); `mean` and `std` are in output channel order.
/// Every byte value's result is tabulated by `init`, so the cost per pixel is three table look-ups
/// and `write` allocates nothing. `classify`, `render` and the live pipeline all normalise through
/// it. Immutable after `init`: one normalizer may serve several threads.
public final class InputNormalizer: @unchecked Sendable {
    /// Lay the channels out as B, G, R instead of R, G, B.
    public let bgr: Bool
    /// 3 × 256 floats: output channel c's value for byte v at [c · 256 + v].
    private let table: UnsafeMutablePointer<Float>

    /// - Parameters:
    ///   - mean: three per-channel means, on the 0…`pixelRange` scale.
    ///   - std: three per-channel standard deviations.
    ///   - pixelRange: the value a 255 pixel maps to before normalisation (255, 1, 2, …).
    ///   - bgr: lay the channels out as B, G, R instead of R, G, B.
    public init(mean: [Float], std: [Float], pixelRange: Float, bgr: Bool) {
        precondition(mean.count == 3 && std.count == 3, "mean and std need three values each")
        self.bgr = bgr
        table = .allocate(capacity: 3 * 256)
        let scale = Float(Double(pixelRange) / 255.0)
        for c in 0..<3 {
            for v in 0..<256 {
                table[c * 256 + v] = (Float(v) * scale - mean[c]) / std[c]
            }
        }
    }

    deinit { table.deallocate() }

    /// Normalises `height` rows of `width · 3` packed RGB bytes (no padding) into `destination`
    /// (room for `3 · height · width` floats). Allocates nothing.
    public func write(pixels: UnsafePointer<UInt8>, width: Int, height: Int, into destination: UnsafeMutablePointer<Float>) {
        let plane = width * height
        let t0 = table, t1 = table + 256, t2 = table + 512
        // Output channel c reads source channel s(c).
        let s0 = bgr ? 2 : 0, s2 = bgr ? 0 : 2
        let d0 = destination, d1 = destination + plane, d2 = destination + 2 * plane
        for i in 0..<plane {
            let p = pixels + i * 3
            d0[i] = t0[Int(p[s0])]
            d1[i] = t1[Int(p[1])]
            d2[i] = t2[Int(p[s2])]
        }
    }

    /// Normalises `image` (already cropped and resized to the model's input size).
    public func write(_ image: RGBImage, into destination: UnsafeMutablePointer<Float>) {
        image.pixels.withUnsafeBufferPointer { pixels in
            write(pixels: pixels.baseAddress!, width: image.width, height: image.height, into: destination)
        }
    }
}

/// Writes `image` as one normalised NCHW sample through a one-off `InputNormalizer` (see there
/// for the formula and the layout).
public func writeNCHW(_ image: RGBImage, into destination: UnsafeMutablePointer<Float>,
                      mean: [Float], std: [Float], pixelRange: Float, bgr: Bool) {
    InputNormalizer(mean: mean, std: std, pixelRange: pixelRange, bgr: bgr).write(image, into: destination)
}

/// `writeNCHW` over raw interleaved RGB bytes (`height` rows of `width · 3` bytes, no padding).
public func writeNCHW(pixels: UnsafePointer<UInt8>, width: Int, height: Int,
                      into destination: UnsafeMutablePointer<Float>,
                      mean: [Float], std: [Float], pixelRange: Float, bgr: Bool) {
    InputNormalizer(mean: mean, std: std, pixelRange: pixelRange, bgr: bgr)
        .write(pixels: pixels, width: width, height: height, into: destination)
}
