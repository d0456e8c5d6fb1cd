// Converting camera and decoder rows into packed RGB, mirrored or not, in one pass.

/// The layouts of raw frames that capture converts itself. (libv4l2 converts MJPEG and most YUV
/// formats to RGB24 before capture sees them; YUYV is handled here for devices opened without
/// that conversion.)
public enum PixelLayout: Sendable, Equatable, CaseIterable, CustomStringConvertible {
    /// 8-bit R, G, B per pixel (V4L2 `RGB3`).
    case rgb24
    /// 8-bit B, G, R per pixel (V4L2 `BGR3`).
    case bgr24
    /// 4:2:2 Y0 U Y1 V per two pixels (V4L2 `YUYV`), BT.601 limited range.
    case yuyv

    /// Bytes per pixel of a tightly packed row.
    public var bytesPerPixel: Int {
        switch self {
        case .rgb24, .bgr24: return 3
        case .yuyv: return 2
        }
    }

    public var description: String {
        switch self {
        case .rgb24: return "RGB24"
        case .bgr24: return "BGR24"
        case .yuyv: return "YUYV"
        }
    }
}

/// Converts `height` rows of `width` pixels in `layout` into packed RGB.
///
/// - Parameters:
///   - source: the first row; rows are `sourceRowBytes` apart (V4L2's `bytesperline`, which may
///     include padding).
///   - destination: `height` rows of `width · 3` bytes.
///   - mirror: flip left to right while converting.
/// Allocates nothing.
public func convertToRGB(_ layout: PixelLayout, source: UnsafePointer<UInt8>, sourceRowBytes: Int,
                         width: Int, height: Int, into destination: UnsafeMutablePointer<UInt8>, mirror: Bool) {
    let outRow = width * 3
    switch layout {
    case .rgb24 where !mirror:
        if sourceRowBytes == outRow {
            destination.update(from: source, count: outRow * height)
        } else {
            for y in 0..<height {
                (destination + y * outRow).update(from: source + y * sourceRowBytes, count: outRow)
            }
        }
    case .rgb24, .bgr24:
        let swap = layout == .bgr24
        for y in 0..<height {
            let s = source + y * sourceRowBytes
            let d = destination + y * outRow
            for x in 0..<width {
                let sx = mirror ? width - 1 - x : x
                let p = s + sx * 3, q = d + x * 3
                let (a, b, c) = (p[0], p[1], p[2])
                q[0] = swap ? c : a
                q[1] = b
                q[2] = swap ? a : c
            }
        }
    case .yuyv:
        let pairs = width / 2
        for y in 0..<height {
            let s = source + y * sourceRowBytes
            let d = destination + y * outRow
            // Two pixels per 4 bytes: Y0 U Y1 V. Output steps right (or left, mirrored) 6 bytes per pair.
            var p = s
            var q = mirror ? d + (width - 1) * 3 : d
            let step = mirror ? -3 : 3
            for _ in 0..<pairs {
                let u = Int32(p[1]) - 128, v = Int32(p[3]) - 128
                writeYUV(Int32(p[0]), u, v, to: q)
                writeYUV(Int32(p[2]), u, v, to: q + step)
                p += 4
                q += 2 * step
            }
            if width % 2 == 1 {
                // The last pixel of an odd row takes the chroma of its pair when the row holds it.
                let whole = sourceRowBytes >= (pairs + 1) * 4
                writeYUV(Int32(p[0]), Int32(p[1]) - 128, whole ? Int32(p[3]) - 128 : 0, to: q)
            }
        }
    }
}

/// One BT.601 limited-range YCbCr sample to RGB, in 16.16 fixed point.
@inline(__always)
private func writeYUV(_ luma: Int32, _ u: Int32, _ v: Int32, to out: UnsafeMutablePointer<UInt8>) {
    let c = (luma - 16) * 76284          // 1.164 · 65536
    let r = (c + 104595 * v + 32768) >> 16               // 1.596
    let g = (c - 25675 * u - 53279 * v + 32768) >> 16    // 0.392, 0.813
    let b = (c + 132202 * u + 32768) >> 16               // 2.017
    out[0] = UInt8(clamping: r)
    out[1] = UInt8(clamping: g)
    out[2] = UInt8(clamping: b)
}

/// Copies packed RGB rows from a rectangle of a larger packed RGB image, mirrored or not.
/// - Parameters:
///   - source: the whole source image, `sourceWidth · 3` bytes per row.
///   - crop: the part to copy; its size is the destination's.
///   - destination: `crop.height` rows of `crop.width · 3` bytes.
public func copyRGB(from source: UnsafePointer<UInt8>, sourceWidth: Int, crop: (x: Int, y: Int, width: Int, height: Int),
                    into destination: UnsafeMutablePointer<UInt8>, mirror: Bool) {
    convertToRGB(.rgb24, source: source + (crop.y * sourceWidth + crop.x) * 3, sourceRowBytes: sourceWidth * 3,
                 width: crop.width, height: crop.height, into: destination, mirror: mirror)
}

/// The size to scale a `source` frame to so that it covers `target` with its aspect ratio kept,
/// and the centred rectangle of that scaled frame which is `target`.
///
/// The scaled size is at least `target` on both sides and equals it on (at least) one.
public func coverScaling(source: FrameGeometry, target: FrameGeometry)
    -> (scaled: FrameGeometry, crop: (x: Int, y: Int, width: Int, height: Int)) {
    // Compare aspect ratios exactly with integers: source.w / source.h vs target.w / target.h.
    let lhs = source.width * target.height, rhs = target.width * source.height
    var w = target.width, h = target.height
    if lhs > rhs {
        // The source is wider: match heights.
        w = max(target.width, (source.width * target.height + source.height / 2) / source.height)
    } else if lhs < rhs {
        h = max(target.height, (source.height * target.width + source.width / 2) / source.width)
    }
    let scaled = FrameGeometry(width: w, height: h)
    return (scaled, ((w - target.width) / 2, (h - target.height) / 2, target.width, target.height))
}
