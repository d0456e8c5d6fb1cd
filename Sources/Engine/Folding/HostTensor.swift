/// A tensor known when the model loads: an initializer, a Constant, or what the constant folder
/// computed from them. Shapes and indices are INT64, weights FLOAT; booleans (comparisons, `Where`
/// conditions) are INT64 0 and 1. The engine itself runs float32 only, so integer tensors live
/// here and never reach a `Network`.
public struct HostTensor: Sendable, Equatable {
    public enum Storage: Sendable, Equatable {
        case float([Float])
        case int64([Int64])
    }
    public var dims: [Int]
    public var storage: Storage

    public init(dims: [Int], storage: Storage) {
        self.dims = dims
        self.storage = storage
    }

    public init(dims: [Int], floats: [Float]) { self.init(dims: dims, storage: .float(floats)) }
    public init(dims: [Int], int64s: [Int64]) { self.init(dims: dims, storage: .int64(int64s)) }

    /// A 1-D INT64 tensor.
    public static func vector(_ values: [Int64]) -> HostTensor { HostTensor(dims: [values.count], int64s: values) }

    public var count: Int {
        switch storage {
        case .float(let v): return v.count
        case .int64(let v): return v.count
        }
    }

    public var isInteger: Bool { if case .int64 = storage { return true } else { return false } }

    public var typeName: String { isInteger ? "INT64" : "FLOAT" }

    public var shape: Shape { Shape(dims) }

    public var shapeDescription: String { Shape(dims).description }

    /// The values as floats (integers converted).
    public var floats: [Float] {
        switch storage {
        case .float(let v): return v
        case .int64(let v): return v.map { Float($0) }
        }
    }

    /// The values as integers (floats truncated toward zero, as a Cast does; NaN and infinities
    /// become 0 and the extremes).
    public var int64s: [Int64] {
        switch storage {
        case .int64(let v): return v
        case .float(let v): return v.map { $0.isNaN ? 0 : Int64(exactly: $0.rounded(.towardZero)) ?? ($0 < 0 ? .min : .max) }
        }
    }

    /// The same values under other dimensions (Reshape, Squeeze, Unsqueeze, Flatten).
    public func reshaped(_ dims: [Int]) -> HostTensor { HostTensor(dims: dims, storage: storage) }

    /// The values seen through `view` (Transpose, Slice, Tile, Expand), as a tensor of the view's
    /// dimensions; `dims` names the result when the view's own axes differ (Tile's paired axes).
    public func through(_ view: StridedView, dims: [Int]? = nil) -> HostTensor {
        let d = dims ?? view.dims
        switch storage {
        case .float(let v): return HostTensor(dims: d, storage: .float(view.gather(v)))
        case .int64(let v): return HostTensor(dims: d, storage: .int64(view.gather(v)))
        }
    }
}
