// Crops and one-shot resizes of whole images (the centred square crop of model input).


extension PixelRect {
    /// The centred square crop used for model input: side = ⌊fraction · min(width, height) + 0.5⌋
    /// (at least 1), left = ⌊(width − side) / 2⌋, top = ⌊(height − side) / 2⌋. This is the rule of
    /// `Tests/reference/preprocessing.py`; the extra odd pixel goes to the right and bottom.
    /// - Parameter fraction: in (0, 1]; 1 keeps the whole shorter side.
    public static func centerSquare(width: Int, height: Int, fraction: Double) -> PixelRect {
        precondition(width > 0 && height > 0, "no crop of an empty \(width)×\(height) image")
        precondition(fraction > 0 && fraction <= 1, "crop fraction \(fraction) is not in (0, 1]")
        let shorter = min(width, height)
        let side = min(max(Int((fraction * Double(shorter) + 0.5).rounded(.down)), 1), shorter)
        return PixelRect(x: (width - side) / 2, y: (height - side) / 2, width: side, height: side)
    }
}

extension RGBImage {
    /// The pixels inside `rect`, which must lie inside the image.
    public func cropped(to rect: PixelRect) -> RGBImage {
        precondition(rect.fits(width: width, height: height), "crop \(rect) is not inside \(width)×\(height)")
        var out = [UInt8](repeating: 0, count: rect.width * rect.height * 3)
        for y in 0..<rect.height {
            let from = ((rect.y + y) * width + rect.x) * 3
            out.replaceSubrange(y * rect.width * 3 ..< (y + 1) * rect.width * 3,
                                with: pixels[from ..< from + rect.width * 3])
        }
        return RGBImage(width: rect.width, height: rect.height, pixels: out)
    }

    /// The centred square of side `fraction × shorter side` (see `PixelRect.centerSquare`).
    public func centerCropped(fraction: Double) -> RGBImage {
        cropped(to: .centerSquare(width: width, height: height, fraction: fraction))
    }
}

extension InterleavedImage {
    /// Resizes (a crop of) the image, every channel alike (an RGBA image's alpha is not
    /// premultiplied); allocates the result and the filter weights. For repeated use make a
    /// `Resampler` once instead.
    /// - Parameters:
    ///   - width: output columns.
    ///   - height: output rows.
    ///   - filter: the interpolation filter.
    ///   - crop: the region to resize, nil for the whole image; never copied out first.
    public func resized(width: Int, height: Int, filter: ResampleFilter = .bicubic, crop: PixelRect? = nil) -> Self {
        var resampler = Resampler(sourceWidth: self.width, sourceHeight: self.height, crop: crop,
                                  outputWidth: width, outputHeight: height, filter: filter, channels: Self.channels)
        var out = Self(width: 0, height: 0, pixels: [])
        resampler.resample(self, into: &out)
        return out
    }
}
