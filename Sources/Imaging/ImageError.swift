// Errors of reading and writing image files, each one sentence that names the file.

/// What went wrong reading or writing an image. `description` is one sentence (no final period)
/// naming the file, ready for `deepscope: <description>` on stderr.
public enum ImageError: Error, Equatable, CustomStringConvertible {
    /// Nothing exists at the path.
    case notFound(path: String)
    /// The path exists but cannot be read (a directory, no permission, an I/O error).
    case unreadable(path: String, reason: String)
    /// The file has zero bytes.
    case empty(path: String)
    /// The first bytes are neither the PNG nor the JPEG signature.
    case notAnImage(path: String)
    /// A PNG or JPEG whose data is cut short or damaged; `message` is the decoder's.
    case corrupt(path: String, message: String)
    /// A valid image of a kind this module does not decode (CMYK JPEG).
    case unsupported(path: String, what: String)
    /// The header announces more pixels per side than `ImageLimits.maxDimension`.
    case tooLarge(path: String, width: Int, height: Int)
    /// Writing failed; nothing was left at the path.
    case writeFailed(path: String, reason: String)

    /// The file the error is about.
    public var path: String {
        switch self {
        case .notFound(let path), .unreadable(let path, _), .empty(let path), .notAnImage(let path),
             .corrupt(let path, _), .unsupported(let path, _), .tooLarge(let path, _, _),
             .writeFailed(let path, _):
            return path
        }
    }

    public var description: String {
        switch self {
        case .notFound(let path):
            return "\(path) does not exist"
        case .unreadable(let path, let reason):
            return "\(path) cannot be read: \(reason)"
        case .empty(let path):
            return "\(path) is empty, not a PNG or JPEG image"
        case .notAnImage(let path):
            return "\(path) is not a PNG or JPEG image"
        case .corrupt(let path, let message):
            return "\(path) is truncated or corrupt: \(message)"
        case .unsupported(let path, let what):
            return "\(path) is \(what), which is not supported"
        case .tooLarge(let path, let width, let height):
            return "\(path) is \(width)×\(height) pixels, more than the \(ImageLimits.maxDimension) pixels per side accepted"
        case .writeFailed(let path, let reason):
            return "\(path) could not be written: \(reason)"
        }
    }
}

/// Bounds checked against an image header before any pixel memory is allocated.
public enum ImageLimits {
    /// Largest accepted width or height, in pixels.
    public static let maxDimension = 16384
}
