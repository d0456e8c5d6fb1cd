import Foundation

// MARK: - The preprocessing vocabulary

/// The order of the network input's three colour channels.
public enum ChannelOrder: String, Codable, Sendable, CaseIterable, ExpressibleByStringLiteral {
    case rgb = "RGB"
    case bgr = "BGR"

    /// A literal spelling of a case ("RGB", "bgr"); any other literal is a programming error.
    public init(stringLiteral value: String) {
        guard let order = ChannelOrder(rawValue: value.uppercased()) else { preconditionFailure("no channel order '\(value)'") }
        self = order
    }

    /// The source (RGB) channel that output channel `c` reads.
    @inlinable public func sourceChannel(_ c: Int) -> Int { self == .bgr ? 2 - c : c }
}

/// The filter that resizes the cropped image to the input size.
public enum ResizeFilter: String, Codable, Sendable, CaseIterable, ExpressibleByStringLiteral {
    case bicubic
    case bilinear

    /// A literal spelling of a case ("bicubic", "Bilinear"); any other literal is a programming error.
    public init(stringLiteral value: String) {
        guard let filter = ResizeFilter(rawValue: value.lowercased()) else { preconditionFailure("no resize filter '\(value)'") }
        self = filter
    }
}

/// One value per colour channel, in the input's channel order.
public struct ChannelValues: Codable, Equatable, Sendable, ExpressibleByArrayLiteral, CustomStringConvertible {
    public var values: (Float, Float, Float)

    public init(_ a: Float, _ b: Float, _ c: Float) { values = (a, b, c) }

    /// Exactly three values; any other count in a literal is a programming error.
    public init(arrayLiteral elements: Float...) {
        precondition(elements.count == 3, "three channel values, not \(elements.count)")
        self.init(elements[0], elements[1], elements[2])
    }

    /// Channel 0, 1 or 2.
    public subscript(_ c: Int) -> Float {
        switch c {
        case 0: return values.0
        case 1: return values.1
        default: precondition(c == 2, "channel \(c) of three"); return values.2
        }
    }

    public var array: [Float] { [values.0, values.1, values.2] }
    public var description: String { array.description }

    public static func == (a: ChannelValues, b: ChannelValues) -> Bool { a.array == b.array }

    public init(from decoder: Decoder) throws {
        let items = try decoder.singleValueContainer().decode([Float].self)
        guard items.count == 3 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "three values expected"))
        }
        self.init(items[0], items[1], items[2])
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(array)
    }
}

/// The network input's height and width, in pixels.
public struct InputSize: Codable, Hashable, Sendable, ExpressibleByArrayLiteral, CustomStringConvertible {
    public var height: Int
    public var width: Int

    public init(height: Int, width: Int) {
        self.height = height
        self.width = width
    }

    /// `[height, width]`; a literal of any other length is a programming error.
    public init(arrayLiteral elements: Int...) {
        precondition(elements.count == 2, "[height, width], not \(elements)")
        self.init(height: elements[0], width: elements[1])
    }

    /// `[height, width]` from an array of two sizes, or 0 × 0 (not known yet) from any other.
    public init(dimensions: [Int]) {
        self = dimensions.count == 2 ? InputSize(height: dimensions[0], width: dimensions[1]) : InputSize(height: 0, width: 0)
    }

    /// `[height, width]`.
    public var dimensions: [Int] { [height, width] }
    /// Floats in one NCHW sample of three channels.
    public var valueCount: Int { 3 * height * width }
    public var description: String { dimensions.description }

    public init(from decoder: Decoder) throws {
        let items = try decoder.singleValueContainer().decode([Int].self)
        guard items.count == 2 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "[height, width] expected"))
        }
        self.init(height: items[0], width: items[1])
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(dimensions)
    }
}

// MARK: - The sidecar

/// How camera pixels become the network's input tensor: the model's sidecar JSON file, parsed once
/// into types. Everything that prepares an input (classify, render, the live pipeline) reads this
/// value and nothing re-validates it: the parser is the one place where a sidecar can be wrong.
///
/// A pixel value `p` in 0…255 becomes `x = (p / 255 · pixelRange − mean[c]) / std[c]` after a center
/// crop of `cropFraction` of the shorter side, resized to `inputSize` with `resize`, channels in
/// `channelOrder`.
///
/// The sidecar sits beside the model as `<model path without .onnx>.json`:
/// ```json
/// {"input_size": [224, 224], "channel_order": "RGB", "pixel_range": 255, "mean": [127, 127, 127],
///  "std": [128, 128, 128], "crop_fraction": 0.875, "resize": "bicubic",
///  "labels": "efficientnet-lite0.labels.txt"}
/// ```
/// Every key is optional (see `defaults(inputSize:)`); an unknown key is an error, so a misspelt
/// key is never silently ignored.
public struct Preprocessing: Codable, Equatable, Sendable {
    /// The network input's height and width.
    public var inputSize: InputSize
    /// The order of the input's three channels.
    public var channelOrder: ChannelOrder
    /// Pixels are scaled to `0…pixelRange` before mean and std apply (255 or 1); positive.
    public var pixelRange: Float
    /// Per-channel mean, in `pixelRange` units, in `channelOrder`.
    public var mean: ChannelValues
    /// Per-channel standard deviation, in `pixelRange` units, in `channelOrder`; all positive.
    public var std: ChannelValues
    /// The center crop keeps this fraction of the shorter side before resizing; in (0, 1].
    public var cropFraction: Float
    /// The resampling filter.
    public var resize: ResizeFilter
    /// The labels file, relative to the sidecar's folder.
    public var labels: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case inputSize = "input_size"
        case channelOrder = "channel_order"
        case pixelRange = "pixel_range"
        case mean, std
        case cropFraction = "crop_fraction"
        case resize, labels
    }

    public init(inputSize: InputSize, channelOrder: ChannelOrder = .rgb, pixelRange: Float = 1,
                mean: ChannelValues = [0.485, 0.456, 0.406], std: ChannelValues = [0.229, 0.224, 0.225],
                cropFraction: Float = 0.875, resize: ResizeFilter = .bilinear, labels: String? = nil) {
        self.inputSize = inputSize
        self.channelOrder = channelOrder
        self.pixelRange = pixelRange
        self.mean = mean
        self.std = std
        self.cropFraction = cropFraction
        self.resize = resize
        self.labels = labels
    }

    /// The values used for keys a sidecar leaves out (or for a model without a sidecar):
    /// RGB, pixels in 0…1, ImageNet mean and std, a 0.875 center crop, bilinear resizing.
    public static func defaults(inputSize: InputSize) -> Preprocessing {
        Preprocessing(inputSize: inputSize)
    }

    /// Parses a sidecar. Absent keys take the defaults, with `defaultInputSize` for `input_size`.
    /// `path` names the file in errors; each error names the key at fault.
    public static func parse(json: Data, path: String, defaultInputSize: [Int]) throws -> Preprocessing {
        try parseSidecar(json: json, path: path, defaultInputSize: defaultInputSize).preprocessing
    }

    /// The parsed sidecar, and which keys it actually gave.
    struct Sidecar {
        var preprocessing: Preprocessing
        var givesInputSize: Bool
        /// True when the sidecar says `"labels": null` (no labels, not even the default file).
        var disablesLabels: Bool
    }

    static func parseSidecar(json: Data, path: String, defaultInputSize: [Int]) throws -> Sidecar {
        func fail(_ key: String?, _ reason: String) -> ModelError {
            .invalidSidecar(path: path, key: key, reason: reason)
        }
        let root: JSONValue
        do { root = try JSONDecoder().decode(JSONValue.self, from: json) } catch {
            throw fail(nil, "is not valid JSON")
        }
        guard case .object(let object) = root else { throw fail(nil, "must hold a JSON object") }
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw fail(unknown, "is not a sidecar key (expected one of \(CodingKeys.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        var p = Preprocessing.defaults(inputSize: InputSize(dimensions: defaultInputSize))
        var sidecar = Sidecar(preprocessing: p, givesInputSize: false, disablesLabels: false)

        func numbers(_ key: CodingKeys, count: Int) throws -> [Double]? {
            guard let v = object[key.rawValue] else { return nil }
            guard case .array(let items) = v, items.count == count else {
                throw fail(key.rawValue, "must be an array of \(count) numbers")
            }
            return try items.map {
                guard case .number(let x) = $0, x.isFinite else { throw fail(key.rawValue, "must be an array of \(count) numbers") }
                return x
            }
        }
        func number(_ key: CodingKeys) throws -> Double? {
            guard let v = object[key.rawValue] else { return nil }
            guard case .number(let x) = v, x.isFinite else { throw fail(key.rawValue, "must be a number") }
            return x
        }
        func choice<T: RawRepresentable & CaseIterable>(_ key: CodingKeys, normalize: (String) -> String) throws -> T?
            where T.RawValue == String {
            guard let v = object[key.rawValue] else { return nil }
            guard case .string(let s) = v, let value = T(rawValue: normalize(s)) else {
                throw fail(key.rawValue, "must be " + T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or "))
            }
            return value
        }
        func channels(_ x: [Double]) -> ChannelValues { ChannelValues(Float(x[0]), Float(x[1]), Float(x[2])) }

        if let size = try numbers(.inputSize, count: 2) {
            guard size.allSatisfy({ $0 >= 1 && $0 <= 65536 && $0.rounded() == $0 }) else {
                throw fail("input_size", "must be two positive integers [height, width]")
            }
            p.inputSize = InputSize(height: Int(size[0]), width: Int(size[1]))
            sidecar.givesInputSize = true
        }
        if let order: ChannelOrder = try choice(.channelOrder, normalize: { $0.uppercased() }) { p.channelOrder = order }
        if let range = try number(.pixelRange) {
            guard range > 0 else { throw fail("pixel_range", "must be positive (255 or 1)") }
            p.pixelRange = Float(range)
        }
        if let mean = try numbers(.mean, count: 3) { p.mean = channels(mean) }
        if let std = try numbers(.std, count: 3) {
            guard std.allSatisfy({ $0 > 0 }) else { throw fail("std", "must hold three positive numbers") }
            p.std = channels(std)
        }
        if let crop = try number(.cropFraction) {
            guard crop > 0 && crop <= 1 else { throw fail("crop_fraction", "must be greater than 0 and at most 1") }
            p.cropFraction = Float(crop)
        }
        if let resize: ResizeFilter = try choice(.resize, normalize: { $0.lowercased() }) { p.resize = resize }
        switch object[CodingKeys.labels.rawValue] {
        case nil: break
        case .null?: sidecar.disablesLabels = true
        case .string(let s)? where !s.isEmpty && !s.contains("\0"): p.labels = s
        default: throw fail("labels", "must be the name of a labels file (a string) or null")
        }
        sidecar.preprocessing = p
        return sidecar
    }
}

/// A JSON document, decoded without losing the difference between numbers, booleans and strings.
enum JSONValue: Decodable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }
}

/// Class names: one per line, in class-index order.
public enum Labels {
    /// The most bytes a labels file may have.
    public static let maxBytes = 64 << 20

    /// Reads a labels file: one name per line; surrounding whitespace and trailing empty lines are
    /// dropped. Throws `ModelError.invalidLabels` naming the file.
    public static func read(path: String) throws -> [String] {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelError.invalidLabels(path: path, reason: "no such labels file")
        }
        guard !isDirectory.boolValue else { throw ModelError.invalidLabels(path: path, reason: "is a directory, not a labels file") }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ModelError.invalidLabels(path: path, reason: "cannot be read (\(error.localizedDescription))")
        }
        guard data.count <= maxBytes else {
            throw ModelError.invalidLabels(path: path, reason: "is \(data.count) bytes, more than \(maxBytes) for a labels file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ModelError.invalidLabels(path: path, reason: "is not UTF-8 text")
        }
        // "\r\n" is one Character in Swift, so both line ends are matched explicitly.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard !lines.isEmpty else { throw ModelError.invalidLabels(path: path, reason: "holds no labels") }
        return lines
    }
}
