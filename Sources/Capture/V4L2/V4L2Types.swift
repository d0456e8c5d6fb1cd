// V4L2 values in Swift terms: four-character codes and C string fields.

import CV4L2

/// A V4L2 pixel format code, `v4l2_fourcc(a, b, c, d)`.
public struct FourCC: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// From four ASCII characters, as `v4l2_fourcc` builds it (first character in the low byte).
    public init(_ code: StaticString) {
        precondition(code.utf8CodeUnitCount == 4, "a fourcc has four characters")
        let p = code.utf8Start
        rawValue = UInt32(p[0]) | UInt32(p[1]) << 8 | UInt32(p[2]) << 16 | UInt32(p[3]) << 24
    }

    public static let rgb24 = FourCC(rawValue: ds_v4l2_pix_fmt_rgb24())
    public static let bgr24 = FourCC(rawValue: ds_v4l2_pix_fmt_bgr24())
    public static let yuyv = FourCC(rawValue: ds_v4l2_pix_fmt_yuyv())
    public static let mjpeg = FourCC(rawValue: ds_v4l2_pix_fmt_mjpeg())
    public static let h264 = FourCC(rawValue: ds_v4l2_pix_fmt_h264())

    /// The layout capture converts from, for the formats it handles itself.
    public var layout: PixelLayout? {
        switch self {
        case .rgb24: return .rgb24
        case .bgr24: return .bgr24
        case .yuyv: return .yuyv
        default: return nil
        }
    }

    /// The four characters ("YUYV", "MJPG"); unprintable bytes as '?'. A big-endian variant
    /// (bit 31 set) gets a "-BE" suffix.
    public var description: String {
        var text = ""
        for shift in stride(from: 0, to: 32, by: 8) {
            var byte = UInt8((rawValue >> UInt32(shift)) & 0xFF)
            if shift == 24 { byte &= 0x7F }
            text.append(byte >= 0x20 && byte < 0x7F ? Character(Unicode.Scalar(byte)) : "?")
        }
        if rawValue & (1 << 31) != 0 { text += "-BE" }
        return text.trimmingSuffix(" ")
    }
}

extension String {
    func trimmingSuffix(_ character: Character) -> String {
        var s = self
        while s.last == character { s.removeLast() }
        return s
    }
}

/// Reads a NUL-terminated C string stored in a fixed-size tuple field (`v4l2_capability.card`, …).
func cString<T>(fromTuple tuple: T) -> String {
    withUnsafeBytes(of: tuple) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// Writes `text` as a NUL-terminated C string into a fixed-size tuple field, truncating.
public func setCString<T>(_ tuple: inout T, _ text: String) {
    withUnsafeMutableBytes(of: &tuple) { raw in
        raw.initializeMemory(as: UInt8.self, repeating: 0)
        for (i, byte) in text.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
    }
}

/// V4L2 constants as the unsigned types the structs use.
public enum V4L2 {
    public static let captureType = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
    public static let memoryMMap = V4L2_MEMORY_MMAP.rawValue
    public static let capVideoCapture = UInt32(truncatingIfNeeded: V4L2_CAP_VIDEO_CAPTURE)
    public static let capStreaming = UInt32(truncatingIfNeeded: V4L2_CAP_STREAMING)
    public static let capDeviceCaps = UInt32(truncatingIfNeeded: V4L2_CAP_DEVICE_CAPS)
    public static let capMetaCapture = UInt32(truncatingIfNeeded: V4L2_CAP_META_CAPTURE)
    public static let capTimePerFrame = UInt32(truncatingIfNeeded: V4L2_CAP_TIMEPERFRAME)
    public static let fieldNone = V4L2_FIELD_NONE.rawValue
    public static let fieldAny = V4L2_FIELD_ANY.rawValue
    public static let formatFlagEmulated = UInt32(truncatingIfNeeded: V4L2_FMT_FLAG_EMULATED)
    public static let bufferFlagMapped = UInt32(truncatingIfNeeded: V4L2_BUF_FLAG_MAPPED)
    public static let bufferFlagQueued = UInt32(truncatingIfNeeded: V4L2_BUF_FLAG_QUEUED)
    public static let bufferFlagDone = UInt32(truncatingIfNeeded: V4L2_BUF_FLAG_DONE)
    public static let bufferFlagError = UInt32(truncatingIfNeeded: V4L2_BUF_FLAG_ERROR)
    public static let bufferFlagTimestampMask = UInt32(truncatingIfNeeded: V4L2_BUF_FLAG_TIMESTAMP_MASK)
    public static let bufferFlagTimestampMonotonic = UInt32(truncatingIfNeeded: V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC)
    public static let frameSizeDiscrete = V4L2_FRMSIZE_TYPE_DISCRETE.rawValue
    public static let frameSizeContinuous = V4L2_FRMSIZE_TYPE_CONTINUOUS.rawValue
    public static let frameSizeStepwise = V4L2_FRMSIZE_TYPE_STEPWISE.rawValue
    public static let frameIntervalDiscrete = V4L2_FRMIVAL_TYPE_DISCRETE.rawValue
    public static let frameIntervalContinuous = V4L2_FRMIVAL_TYPE_CONTINUOUS.rawValue
    public static let frameIntervalStepwise = V4L2_FRMIVAL_TYPE_STEPWISE.rawValue
}
