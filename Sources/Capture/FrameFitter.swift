// Fitting an RGB frame of one size into another: crop to the target's aspect ratio (centred), then
// resample. Planned once per pair of sizes; fitting a frame allocates nothing.

import Imaging

/// The centred part of a `source`-sized frame that has `target`'s aspect ratio (as large as fits).
public func aspectCrop(source: FrameGeometry, target: FrameGeometry) -> PixelRect {
    // source.w / source.h vs target.w / target.h, in integers.
    let lhs = source.width * target.height, rhs = target.width * source.height
    var w = source.width, h = source.height
    if lhs > rhs {
        w = max(1, min(source.width, (target.width * source.height + target.height / 2) / target.height))
    } else if lhs < rhs {
        h = max(1, min(source.height, (target.height * source.width + target.width / 2) / target.width))
    }
    return PixelRect(x: (source.width - w) / 2, y: (source.height - h) / 2, width: w, height: h)
}

/// Resamples packed RGB frames of `source` size into `target` size, covering it (aspect ratio kept,
/// the excess cropped equally on both sides). Bilinear with antialiasing, as Pillow computes it.
public struct FrameFitter: Sendable {
    public let source: FrameGeometry
    public let target: FrameGeometry
    private var resampler: Resampler?

    public init(source: FrameGeometry, target: FrameGeometry) {
        self.source = source
        self.target = target
        resampler = source == target ? nil
            : Resampler(sourceWidth: source.width, sourceHeight: source.height,
                        crop: aspectCrop(source: source, target: target),
                        outputWidth: target.width, outputHeight: target.height, filter: .bilinear, channels: 3)
    }

    /// Whether frames pass through unchanged.
    public var isIdentity: Bool { resampler == nil }

    /// Writes the fitted frame into `destination` (`target.byteCount` bytes).
    public mutating func fit(_ frame: UnsafePointer<UInt8>, into destination: UnsafeMutablePointer<UInt8>) {
        if resampler == nil {
            destination.update(from: frame, count: target.byteCount)
        } else {
            resampler!.resample(frame, into: destination)
        }
    }
}
