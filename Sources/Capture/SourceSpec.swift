// The source spec strings of the command line (DESIGN.md):
//
//     v4l2:/dev/video0[?width=640&height=480&fps=30]
//     image:PATH   dir:PATH   video:PATH   synthetic
//
// Every kind takes the same optional query: `width` and `height` (together), `fps`, and `mirror`
// (`1`/`0`, `true`/`false`, `yes`/`no`). A `?` starts the query only when what follows it is a list
// of `key=value` pairs, so paths containing `?` still work.

/// A parsed source spec.
public enum SourceSpec: Sendable, Equatable, CustomStringConvertible {
    /// A V4L2 camera at a device path.
    case camera(path: String, SourceOptions)
    /// One PNG or JPEG image, repeated.
    case image(path: String, SourceOptions)
    /// The PNG and JPEG images of a folder in name order, cycled.
    case directory(path: String, SourceOptions)
    /// A video file, looped.
    case video(path: String, SourceOptions)
    /// The built-in moving test scene.
    case synthetic(SourceOptions)

    /// The query keys every kind accepts.
    public static let keys = ["width", "height", "fps", "mirror"]
    /// Largest accepted width or height.
    public static let maximumSide = 16384
    /// Largest accepted frame rate.
    public static let maximumFrameRate = 1000.0

    public var options: SourceOptions {
        switch self {
        case .camera(_, let o), .image(_, let o), .directory(_, let o), .video(_, let o), .synthetic(let o):
            return o
        }
    }

    /// The path of a camera, image, folder or video; nil for the synthetic scene.
    public var path: String? {
        switch self {
        case .camera(let p, _), .image(let p, _), .directory(let p, _), .video(let p, _): return p
        case .synthetic: return nil
        }
    }

    /// Parses a spec string.
    /// - Throws: `CaptureError.badSpec` with the reason in one clause.
    public static func parse(_ text: String) throws(CaptureError) -> SourceSpec {
        func fail(_ reason: String) -> CaptureError { .badSpec(spec: text, reason: reason) }
        let kinds = "use v4l2:DEVICE, image:PATH, dir:PATH, video:PATH or synthetic"
        let kind: String
        var rest: Substring
        if let colon = text.firstIndex(of: ":") {
            kind = String(text[..<colon])
            rest = text[text.index(after: colon)...]
        } else if let question = text.firstIndex(of: "?") {
            kind = String(text[..<question])
            rest = text[question...]
        } else {
            kind = text
            rest = ""
        }
        guard !kind.isEmpty else { throw fail("it has no kind (\(kinds))") }

        // Split off the query.
        var query: Substring = ""
        if let question = rest.lastIndex(of: "?") {
            let candidate = rest[rest.index(after: question)...]
            let pairs = candidate.split(separator: "&", omittingEmptySubsequences: false)
            if !candidate.isEmpty && pairs.allSatisfy({ looksLikePair($0) }) {
                query = candidate
                rest = rest[..<question]
            } else if candidate.isEmpty {
                throw fail("the query after '?' is empty")
            }
        }
        let options = try parseQuery(query, kind: kind, spec: text)
        let path = String(rest)

        switch kind {
        case "synthetic":
            guard path.isEmpty else { throw fail("synthetic takes no path, only options such as synthetic?width=640&height=480") }
            return .synthetic(options)
        case "v4l2", "image", "dir", "video":
            guard !path.isEmpty else {
                throw fail(kind == "v4l2" ? "it names no device (as in v4l2:/dev/video0)" : "it names no path (as in \(kind):/path)")
            }
            switch kind {
            case "v4l2":
                guard options.frameRate.map({ $0 > 0 }) ?? true else { throw fail("a camera's fps must be above 0") }
                return .camera(path: path, options)
            case "image": return .image(path: path, options)
            case "dir": return .directory(path: path, options)
            default: return .video(path: path, options)
            }
        default:
            throw fail("'\(kind)' is not a kind of source (\(kinds))")
        }
    }

    private static func looksLikePair(_ pair: Substring) -> Bool {
        guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else { return false }
        return pair[..<eq].allSatisfy { $0.isLetter || $0 == "_" }
    }

    private static func parseQuery(_ query: Substring, kind: String, spec: String) throws(CaptureError) -> SourceOptions {
        func fail(_ reason: String) -> CaptureError { .badSpec(spec: spec, reason: reason) }
        var options = SourceOptions()
        var seen: Set<String> = []
        if query.isEmpty { return options }
        for pair in query.split(separator: "&", omittingEmptySubsequences: false) {
            let eq = pair.firstIndex(of: "=")!
            let key = String(pair[..<eq]), value = String(pair[pair.index(after: eq)...])
            guard keys.contains(key) else {
                throw fail("'\(key)' is not an option (use width, height, fps or mirror)")
            }
            guard seen.insert(key).inserted else { throw fail("'\(key)' is given twice") }
            switch key {
            case "width", "height":
                guard let n = Int(value), n >= 1, n <= maximumSide else {
                    throw fail("\(key) must be a whole number of pixels from 1 to \(maximumSide), not '\(value)'")
                }
                if key == "width" { options.width = n } else { options.height = n }
            case "fps":
                guard let f = Double(value), f.isFinite, f >= 0, f <= maximumFrameRate else {
                    throw fail("fps must be a number from 0 to \(Int(maximumFrameRate)), not '\(value)'")
                }
                options.frameRate = f
            default:
                switch value.lowercased() {
                case "1", "true", "yes": options.mirror = true
                case "0", "false", "no": options.mirror = false
                default: throw fail("mirror must be 1 or 0, not '\(value)'")
                }
            }
        }
        guard (options.width == nil) == (options.height == nil) else {
            throw fail("width and height must be given together")
        }
        return options
    }

    /// The canonical spec string (options in a fixed order).
    public var description: String {
        let o = options
        var query: [String] = []
        if let w = o.width, let h = o.height { query += ["width=\(w)", "height=\(h)"] }
        if let f = o.frameRate { query.append("fps=\(f == f.rounded() ? String(Int(f)) : String(f))") }
        if o.mirror { query.append("mirror=1") }
        let suffix = query.isEmpty ? "" : "?" + query.joined(separator: "&")
        switch self {
        case .camera(let p, _): return "v4l2:\(p)\(suffix)"
        case .image(let p, _): return "image:\(p)\(suffix)"
        case .directory(let p, _): return "dir:\(p)\(suffix)"
        case .video(let p, _): return "video:\(p)\(suffix)"
        case .synthetic: return "synthetic\(suffix)"
        }
    }
}
