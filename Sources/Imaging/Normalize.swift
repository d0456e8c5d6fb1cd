// 8-bit RGB pixels → a normalised float32 model input, NCHW planar.

/// Writes `image` as one normalised NCHW sample: `destination[c · H · W + y · W + x]` for output
/// channel `c`, with
///
///     x = (pixel · (pixelRange / 255) − mean[c]) / std[c]
///
/// computed in Float exactly as `Tests/reference/preprocessing.py` does with NumPy. Output channel
/// `c` is source channel `c` (RGB) or `2 − c` (BGR); `mean` and `std` are in output channel order.
/// Every byte value's result is tabulated first, so the cost per pixel is three table look-ups.
/// Allocates nothing.
///
/// - Parameters:
///   - image: the RGB image (already cropped and resized to the model's input size).
///   - destination: room for `3 · height · width` floats.
///   - mean: three per-channel means, on the 0…`pixelRange` scale.
///   - std: three per-channel standard deviations.
///   - pixelRange: the value a 255 pixel maps to before normalisation (255, 1, 2, …).
///   - bgr: lay the channels out as B, G, R instead of R, G, B.
public func writeNCHW(_ image: RGBImage, into destination: UnsafeMutablePointer<Float>,
                      mean: [Float], std: [Float], pixelRange: Float, bgr: Bool) {
    image.pixels.withUnsafeBufferPointer { pixels in
        writeNCHW(pixels: pixels.baseAddress!, width: image.width, height: image.height, into: destination,
                  mean: mean, std: std, pixelRange: pixelRange, bgr: bgr)
    }
}

/// `writeNCHW` over raw interleaved RGB bytes (`height` rows of `width · 3` bytes, no padding).
public func writeNCHW(pixels: UnsafePointer<UInt8>, width: Int, height: Int,
                      into destination: UnsafeMutablePointer<Float>,
                      mean: [Float], std: [Float], pixelRange: Float, bgr: Bool) {
    precondition(mean.count == 3 && std.count == 3, "mean and std need three values each")
    let scale = Float(Double(pixelRange) / 255.0)
    let plane = width * height
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * 256) { table in
        for c in 0..<3 {
            for v in 0..<256 {
                table[c * 256 + v] = (Float(v) * scale - mean[c]) / std[c]
            }
        }
        let t = table.baseAddress!
        let (t0, t1, t2) = (t, t + 256, t + 512)
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
}
