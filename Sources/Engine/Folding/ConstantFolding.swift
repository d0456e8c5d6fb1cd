import Foundation

/// Why a constant subgraph cannot be evaluated at load; the importer names the node and its op.
public struct FoldError: Error, Equatable, Sendable {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
}

/// A model node that the constant folder evaluated at load: its output name and its op.
public struct FoldedNode: Sendable, Equatable {
    public var name: String
    public var op: String
    public init(name: String, op: String) { self.name = name; self.op = op }
}

/// The constant folder: evaluates, once at load, the nodes that depend only on initializers and
/// constants (exporters' shape arithmetic, weight stand-ins, reshaped or transposed weights), so
/// that what reaches the graph and its plan is what runs per frame. Each function is one operator's
/// semantics on `HostTensor`s; the layout ones walk the same `StridedView`s as the engine's
/// Transpose, Slice and Tile.
public enum ConstantFolding {
    /// The most elements one folded tensor may have: 2^28 (1 GiB of floats), above the largest
    /// weight of the model zoo (VGG's first fully connected layer, 103 M).
    public static let maxElements = 1 << 28

    /// Throws unless a tensor of `dims` stays within `maxElements`.
    public static func checkSize(_ dims: [Int]) throws {
        var n = 1
        for d in dims {
            guard d >= 0 else { throw FoldError("its constant output would have a negative dimension (\(Shape(dims)))") }
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            guard !overflow, p <= maxElements else {
                throw FoldError("its constant output \(Shape(dims)) would hold more than the \(maxElements) values DeepScope evaluates at load")
            }
            n = p
        }
    }

    static func axis(_ a: Int, rank: Int, _ what: String = "axis") throws -> Int {
        guard a >= -rank && a < rank else { throw FoldError("\(what) \(a) is outside rank \(rank)") }
        return a < 0 ? a + rank : a
    }

    // MARK: - Sources of constants

    /// ConstantOfShape: a tensor of `dims` filled with `value`'s one element (FLOAT 0 by default).
    public static func constantOfShape(_ dims: [Int64], value: HostTensor?) throws -> HostTensor {
        guard dims.allSatisfy({ $0 >= 0 && $0 <= Int64(maxElements) }) else {
            throw FoldError("its shape \(dims) has a negative or oversized dimension")
        }
        let d = dims.map { Int($0) }
        try checkSize(d)
        let n = d.reduce(1, *)
        guard let value else { return HostTensor(dims: d, floats: [Float](repeating: 0, count: n)) }
        guard value.count == 1 else { throw FoldError("its value has \(value.count) elements; it must have one") }
        switch value.storage {
        case .float(let v): return HostTensor(dims: d, floats: [Float](repeating: v[0], count: n))
        case .int64(let v): return HostTensor(dims: d, int64s: [Int64](repeating: v[0], count: n))
        }
    }

    /// Shape (opset 15's `start` and `end` select a range of dimensions, clamped).
    public static func shape(of s: Shape, start: Int = 0, end: Int? = nil) -> HostTensor {
        let r = s.rank
        func clamp(_ v: Int) -> Int { min(max(v < 0 ? v + r : v, 0), r) }
        let b = clamp(start), e = clamp(end ?? r)
        return .vector(b < e ? s.dims[b..<e].map { Int64($0) } : [])
    }

    /// Range(start, limit, delta) of the inputs' type.
    public static func range(start: HostTensor, limit: HostTensor, delta: HostTensor) throws -> HostTensor {
        guard start.count == 1, limit.count == 1, delta.count == 1 else { throw FoldError("start, limit and delta must be scalars") }
        if start.isInteger && limit.isInteger && delta.isInteger {
            let (s, l, d) = (start.int64s[0], limit.int64s[0], delta.int64s[0])
            guard d != 0 else { throw FoldError("delta is 0") }
            let count = try rangeCount((Double(l) - Double(s)) / Double(d))
            return .vector((0..<count).map { s + Int64($0) * d })
        }
        let (s, l, d) = (start.floats[0], limit.floats[0], delta.floats[0])
        guard d != 0 else { throw FoldError("delta is 0") }
        let count = try rangeCount(Double(l - s) / Double(d))
        return HostTensor(dims: [count], floats: (0..<count).map { s + Float($0) * d })
    }

    /// max(ceil(steps), 0) as a count, refused past `maxElements` (or when not a number).
    private static func rangeCount(_ steps: Double) throws -> Int {
        guard !steps.isNaN, steps.rounded(.up) <= Double(maxElements) else {
            throw FoldError("its range would hold more than the \(maxElements) values DeepScope evaluates at load")
        }
        return max(0, Int(steps.rounded(.up)))
    }

    // MARK: - Layout

    /// Gather along `axis` with INT64 indices (negative ones count from the end).
    public static func gather(_ data: HostTensor, indices: HostTensor, axis a: Int) throws -> HostTensor {
        let rank = data.dims.count
        guard rank >= 1 else { throw FoldError("its data is a scalar") }
        let axis = try self.axis(a, rank: rank)
        let n = data.dims[axis]
        let idx = try indices.int64s.map { i -> Int in
            let k = i < 0 ? i + Int64(n) : i
            guard k >= 0 && k < Int64(n) else { throw FoldError("index \(i) is outside dimension \(axis) of size \(n)") }
            return Int(k)
        }
        let outer = data.dims[..<axis].reduce(1, *), inner = data.dims[(axis + 1)...].reduce(1, *)
        let dims = Array(data.dims[..<axis]) + indices.dims + Array(data.dims[(axis + 1)...])
        try checkSize(dims)
        func pick<T>(_ v: [T]) -> [T] {
            var out: [T] = []
            out.reserveCapacity(outer * idx.count * inner)
            for o in 0..<outer { for k in idx { out += v[(o * n + k) * inner ..< (o * n + k + 1) * inner] } }
            return out
        }
        switch data.storage {
        case .float(let v): return HostTensor(dims: dims, floats: pick(v))
        case .int64(let v): return HostTensor(dims: dims, int64s: pick(v))
        }
    }

    /// Concat along `axis`; integer and float inputs are not mixed.
    public static func concat(_ inputs: [HostTensor], axis a: Int) throws -> HostTensor {
        guard let first = inputs.first else { throw FoldError("it has no inputs") }
        guard inputs.allSatisfy({ $0.isInteger == first.isInteger }) else { throw FoldError("its inputs mix FLOAT and INT64") }
        let rank = first.dims.count
        let axis = try self.axis(a, rank: max(rank, 1))
        var dims = first.dims
        dims[axis] = 0
        for t in inputs {
            guard t.dims.count == rank, (0..<rank).allSatisfy({ $0 == axis || t.dims[$0] == first.dims[$0] }) else {
                throw FoldError("its inputs \(inputs.map(\.shapeDescription).joined(separator: ", ")) differ outside axis \(axis)")
            }
            dims[axis] += t.dims[axis]
        }
        try checkSize(dims)
        let outer = dims[..<axis].reduce(1, *)
        func join<T>(_ parts: [[T]]) -> [T] {
            var out: [T] = []
            for o in 0..<outer {
                for (t, p) in zip(inputs, parts) {
                    let size = t.dims[axis...].reduce(1, *)
                    out += p[o * size ..< (o + 1) * size]
                }
            }
            return out
        }
        if first.isInteger { return HostTensor(dims: dims, int64s: join(inputs.map(\.int64s))) }
        return HostTensor(dims: dims, floats: join(inputs.map(\.floats)))
    }

    public static func transpose(_ t: HostTensor, perm: [Int]) throws -> HostTensor {
        guard perm.count == t.dims.count, perm.sorted() == Array(0..<t.dims.count) else {
            throw FoldError("perm \(perm) is not a permutation of the \(t.dims.count) axes of \(t.shapeDescription)")
        }
        return t.through(.transpose(t.shape, perm: perm))
    }

    public static func slice(_ t: HostTensor, _ s: Slicing) -> HostTensor { t.through(.slice(t.shape, s)) }

    public static func tile(_ t: HostTensor, repeats: [Int]) throws -> HostTensor {
        guard repeats.count == t.dims.count, repeats.allSatisfy({ $0 >= 0 }) else {
            throw FoldError("repeats \(repeats) do not give one non-negative count per axis of \(t.shapeDescription)")
        }
        let dims = (0..<t.dims.count).map { t.dims[$0] * repeats[$0] }
        try checkSize(dims)
        return t.through(.tile(t.shape, repeats: repeats), dims: dims)
    }

    /// `t` broadcast (NumPy rules) to `dims`, which must already be the broadcast shape.
    static func broadcast(_ t: HostTensor, to dims: [Int]) -> HostTensor {
        if t.dims == dims { return t }
        let pad = dims.count - t.dims.count
        let own = t.shape.strides
        let strides = (0..<dims.count).map { i in i < pad || t.dims[i - pad] == 1 ? 0 : own[i - pad] }
        return t.through(StridedView(dims: dims, strides: strides))
    }

    /// Expand: broadcast to the broadcast of the tensor's shape and `shape`.
    public static func expand(_ t: HostTensor, shape: [Int64]) throws -> HostTensor {
        guard shape.allSatisfy({ $0 >= 0 && $0 <= Int64(maxElements) }) else { throw FoldError("its shape \(shape) is out of range") }
        guard let out = Graph.broadcast(t.shape, Shape(shape.map { Int($0) })) else {
            throw FoldError("cannot broadcast \(t.shapeDescription) to \(shape)")
        }
        try checkSize(out.dims)
        return broadcast(t, to: out.dims)
    }

    /// The dimensions after Unsqueeze with `axes` (of the output's rank).
    public static func unsqueezed(_ dims: [Int], axes: [Int]) throws -> [Int] {
        let rank = dims.count + axes.count
        let normalized = try axes.map { try axis($0, rank: rank, "axes") }
        guard Set(normalized).count == normalized.count else { throw FoldError("axes \(axes) repeat an axis") }
        var out: [Int] = []
        var it = dims.makeIterator()
        for i in 0..<rank { out.append(normalized.contains(i) ? 1 : it.next()!) }
        return out
    }

    /// The dimensions after Squeeze with `axes` (all dimensions of 1 when nil).
    public static func squeezed(_ dims: [Int], axes: [Int]?) throws -> [Int] {
        guard let axes else { return dims.filter { $0 != 1 } }
        let normalized = Set(try axes.map { try axis($0, rank: dims.count, "axes") })
        for a in normalized where dims[a] != 1 { throw FoldError("it squeezes axis \(a) of \(Shape(dims)), which is not 1") }
        return dims.indices.filter { !normalized.contains($0) }.map { dims[$0] }
    }
}
