// Errors of opening a source, and faults of a running one.

import Support

/// Why a running source stopped delivering frames. The capture thread reports each fault once,
/// shows it to consumers as "no signal", and reopens the source with backoff.
public enum CaptureFault: Error, Sendable, Equatable, CustomStringConvertible {
    /// The device went away: unplugged (ENODEV, ENXIO), an I/O error (EIO), or its node vanished.
    case disconnected(source: String, code: Int32)
    /// No frame arrived for `seconds` although the source was streaming.
    case stalled(source: String, seconds: Double)
    /// Another program holds the device (EBUSY).
    case busy(source: String)
    /// The device offers no pixel format capture can use.
    case formatRefused(source: String, detail: String)
    /// Anything else: an ioctl that failed unexpectedly, a decoder error, …
    case failed(source: String, message: String)

    /// The kind of fault, for telling a new fault from a repeat of the one already reported.
    public enum Kind: Sendable, Equatable {
        case disconnected, stalled, busy, formatRefused, failed
    }

    public var kind: Kind {
        switch self {
        case .disconnected: return .disconnected
        case .stalled: return .stalled
        case .busy: return .busy
        case .formatRefused: return .formatRefused
        case .failed: return .failed
        }
    }

    /// The source the fault is about.
    public var source: String {
        switch self {
        case .disconnected(let s, _), .stalled(let s, _), .busy(let s), .formatRefused(let s, _), .failed(let s, _):
            return s
        }
    }

    /// One clause, no final period: "camera /dev/video0 was disconnected (ENODEV)".
    public var description: String {
        switch self {
        case .disconnected(let source, let code):
            return code == ENOENT ? "\(source) is not connected (ENOENT)" : "\(source) was disconnected (\(errnoName(code)))"
        case .stalled(let source, let seconds):
            return "\(source) sent no frame for \(formatSeconds(seconds)) s"
        case .busy(let source):
            return "\(source) is busy: another program is using it (EBUSY)"
        case .formatRefused(let source, let detail):
            return "\(source) offers no pixel format capture can use: \(detail)"
        case .failed(let source, let message):
            return "\(source) failed: \(message)"
        }
    }
}

/// Why a source could not be opened. `description` is one sentence naming the source, ready for
/// stderr; `isBadInput` tells the command line which exit status it maps to (2 for bad input,
/// 1 for a failure of the machine or device).
public enum CaptureError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The spec string does not parse.
    case badSpec(spec: String, reason: String)
    /// Nothing exists at the path; `what` is "camera", "image", "folder" or "video".
    case notFound(what: String, path: String)
    /// The path exists but is not a V4L2 video capture device.
    case notACamera(path: String, reason: String)
    /// A file or folder that exists but cannot be used (not an image, not a video, empty folder, …).
    case unreadable(what: String, path: String, reason: String)
    /// The device exists but does not work right now (busy, refused formats, I/O errors).
    case device(CaptureFault)

    /// True for mistakes in what the user gave (exit status 2); false for device failures (1).
    public var isBadInput: Bool {
        if case .device = self { return false }
        return true
    }

    /// The fault a running pipeline shows while this error keeps a source from reopening.
    public func fault(source: String) -> CaptureFault {
        switch self {
        case .device(let fault): return fault
        case .notFound: return .disconnected(source: source, code: ENOENT)
        case .badSpec(_, let reason), .notACamera(_, let reason), .unreadable(_, _, let reason):
            return .failed(source: source, message: reason)
        }
    }

    public var description: String {
        switch self {
        case .badSpec(let spec, let reason):
            return "The source '\(spec)' is not a valid source spec: \(reason)."
        case .notFound(let what, let path):
            return "The \(what) \(path) does not exist."
        case .notACamera(let path, let reason):
            return "\(path) is not a V4L2 camera: \(reason)."
        case .unreadable(let what, let path, let reason):
            return "The \(what) \(path) cannot be used: \(reason)."
        case .device(let fault):
            let text = fault.description
            return text.prefix(1).uppercased() + text.dropFirst() + "."
        }
    }
}

/// "2", "0.5", "1.25": seconds without trailing zeros.
func formatSeconds(_ seconds: Double) -> String {
    if seconds == seconds.rounded() { return String(Int(seconds)) }
    var text = String((seconds * 1000).rounded() / 1000)
    while text.hasSuffix("0") { text.removeLast() }
    return text
}

#if canImport(Glibc)
import Glibc
#endif
