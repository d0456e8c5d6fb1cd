import Foundation
import Engine

/// Why a model, its sidecar, its labels or a `.npy` file could not be read or written.
///
/// Each case's `description` is one sentence that starts with the file at fault and, where a graph
/// node is involved, names that node (by its output name, the layer name users see) and its op.
public enum ModelError: Error, CustomStringConvertible, Equatable, Sendable {
    /// There is no file at the path.
    case fileNotFound(path: String)
    /// The file exists but could not be read (a directory, no permission, an I/O error).
    case unreadable(path: String, reason: String)
    /// The file is larger than DeepScope accepts.
    case tooLarge(path: String, bytes: Int, limit: Int)
    /// The bytes are not a well-formed ONNX protobuf (random bytes, a truncated download, …).
    case notONNX(path: String, reason: String)
    /// The file parses as ONNX but holds no graph.
    case noGraph(path: String)
    /// Something about the model as a whole is wrong (its input, its outputs, …).
    case invalidModel(path: String, reason: String)
    /// A node uses an operator DeepScope does not implement.
    case unsupportedOp(path: String, node: String, op: String, opset: Int)
    /// A node's attributes, inputs or shapes are wrong or outside what DeepScope supports.
    case invalidNode(path: String, node: String, op: String, reason: String)
    /// The preprocessing sidecar is malformed; `key` is the JSON key at fault, if one is.
    case invalidSidecar(path: String, key: String?, reason: String)
    /// The labels file is missing, unreadable or does not fit the model.
    case invalidLabels(path: String, reason: String)
    /// A `.npy` file is malformed or holds something other than little-endian float32 in C order.
    case invalidNPY(path: String, reason: String)
    /// Writing a file failed (a failure of the machine rather than of the input).
    case cannotWrite(path: String, reason: String)

    /// The file the error is about.
    public var path: String {
        switch self {
        case .fileNotFound(let p), .unreadable(let p, _), .tooLarge(let p, _, _), .notONNX(let p, _),
             .noGraph(let p), .invalidModel(let p, _), .unsupportedOp(let p, _, _, _),
             .invalidNode(let p, _, _, _), .invalidSidecar(let p, _, _), .invalidLabels(let p, _),
             .invalidNPY(let p, _), .cannotWrite(let p, _):
            return p
        }
    }

    public var description: String {
        switch self {
        case .fileNotFound(let p):
            return "\(p): no such file."
        case .unreadable(let p, let reason):
            return "\(p): cannot be read (\(reason))."
        case .tooLarge(let p, let bytes, let limit):
            return "\(p): the file is \(bytes) bytes, more than the \(limit) bytes DeepScope accepts."
        case .notONNX(let p, let reason):
            return "\(p): not a valid ONNX model (\(reason))."
        case .noGraph(let p):
            return "\(p): the ONNX model contains no graph."
        case .invalidModel(let p, let reason):
            return "\(p): \(reason)."
        case .unsupportedOp(let p, let node, let op, let opset):
            return "\(p): Node '\(node)' uses op '\(op)' (opset \(opset)), which DeepScope does not support."
        case .invalidNode(let p, let node, let op, let reason):
            return "\(p): Node '\(node)' (\(op)): \(reason)."
        case .invalidSidecar(let p, let key, let reason):
            if let key { return "\(p): key '\(key)' \(reason)." }
            return "\(p): \(reason)."
        case .invalidLabels(let p, let reason):
            return "\(p): \(reason)."
        case .invalidNPY(let p, let reason):
            return "\(p): \(reason)."
        case .cannotWrite(let p, let reason):
            return "\(p): cannot be written (\(reason))."
        }
    }
}

/// Size limits that keep a damaged or hostile file from exhausting memory or overflowing arithmetic.
public enum ModelLimits {
    /// The largest model file accepted: 2 GiB (protobuf's own limit).
    public static let maxFileBytes = 2 << 30
    /// The most elements a single tensor (initializer, constant or activation) may have: 2^31.
    public static let maxElements = 1 << 31
    /// The highest tensor rank accepted.
    public static let maxRank = 16
    /// The largest kernel size, stride, dilation, pad, group count or LRN size accepted.
    public static let maxWindow = 1 << 16
}

/// The number of elements of `dims`, or nil when a dimension is negative or the product exceeds
/// `limit` (computed without ever overflowing).
func checkedCount<S: Sequence>(_ dims: S, limit: Int = ModelLimits.maxElements) -> Int? where S.Element: BinaryInteger {
    var count = 1
    var sawZero = false
    for d in dims {
        guard d >= 0, let v = Int(exactly: d) else { return nil }
        if v == 0 { sawZero = true; continue }
        guard v <= limit else { return nil }
        let (p, overflow) = count.multipliedReportingOverflow(by: v)
        guard !overflow, p <= limit else { return nil }
        count = p
    }
    return sawZero ? 0 : count
}
