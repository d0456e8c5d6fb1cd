/// A view of a row-major tensor as another N-d tensor through per-axis source strides: output
/// element (i₀, …, iₖ) is source element `base + Σ iⱼ · strides[j]`. Transpose (permuted strides),
/// Slice (scaled strides and an offset) and Tile (stride 0 on the repeat axes) are all such views,
/// and the constant folder runs the same walk on integer tensors.
public struct StridedView: Sendable, Equatable {
    /// The output's dimensions.
    public let dims: [Int]
    /// Per output axis: how far one step moves in the source.
    public let strides: [Int]
    /// The source offset of the output's first element.
    public let base: Int

    public init(dims: [Int], strides: [Int], base: Int = 0) {
        precondition(dims.count == strides.count)
        self.dims = dims; self.strides = strides; self.base = base
    }

    public var count: Int { dims.reduce(1, *) }

    /// The view of a transposition: output axis j is input axis `perm[j]`.
    public static func transpose(_ input: Shape, perm: [Int]) -> StridedView {
        let s = input.strides
        return StridedView(dims: perm.map { input[$0] }, strides: perm.map { s[$0] })
    }

    /// The view of a strided slice: per axis, the first index, the step and the output length.
    public static func slice(_ input: Shape, _ slicing: Slicing) -> StridedView {
        let s = input.strides
        var base = 0
        for a in 0..<input.rank { base += slicing.starts[a] * s[a] }
        return StridedView(dims: slicing.counts, strides: (0..<input.rank).map { s[$0] * slicing.steps[$0] }, base: base)
    }

    /// The view of a tiling as a rank-2k tensor [r₀, d₀, r₁, d₁, …] whose repeat axes have stride 0;
    /// its row-major order is the tiled tensor's.
    public static func tile(_ input: Shape, repeats: [Int]) -> StridedView {
        let s = input.strides
        var dims: [Int] = [], strides: [Int] = []
        for a in 0..<input.rank {
            dims += [repeats[a], input[a]]
            strides += [0, s[a]]
        }
        return StridedView(dims: dims, strides: strides)
    }

    /// Rows: the output split along its last axis (1 for a scalar).
    var rows: Int { dims.isEmpty ? 1 : count / max(dims[dims.count - 1], 1) }

    /// The source offset of row `row`'s first element.
    private func rowOffset(_ row: Int) -> Int {
        var r = row, offset = base
        for a in stride(from: dims.count - 2, through: 0, by: -1) {
            offset += (r % dims[a]) * strides[a]
            r /= dims[a]
        }
        return offset
    }

    /// Copies output rows `rows` (a range of row indices) from `src` to `dst` (the output, row-major).
    public func gather<T>(_ src: UnsafePointer<T>, _ dst: UnsafeMutablePointer<T>, rows range: Range<Int>) {
        guard let last = dims.last else { dst[0] = src[base]; return }
        let step = strides[strides.count - 1]
        for row in range {
            let from = src + rowOffset(row), to = dst + row * last
            if step == 1 {
                to.update(from: from, count: last)
            } else {
                for i in 0..<last { to[i] = from[i * step] }
            }
        }
    }

    /// The transpose of `gather` for floats: adds output rows `range` of `g` into the source-shaped
    /// `dst` (which the caller has cleared or holds other contributions).
    func scatterAdd(_ g: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, rows range: Range<Int>) {
        guard let last = dims.last else { dst[base] += g[0]; return }
        let step = strides[strides.count - 1]
        for row in range {
            let to = dst + rowOffset(row), from = g + row * last
            for i in 0..<last { to[i * step] += from[i] }
        }
    }

    /// Gathers the whole view of `source` into a new array.
    public func gather<T>(_ source: [T]) -> [T] {
        let n = count
        guard n > 0 else { return [] }
        return [T](unsafeUninitializedCapacity: n) { buffer, initialized in
            source.withUnsafeBufferPointer { src in
                // Every element is written once, in order; T is a trivial type here (Float, Int64).
                gather(src.baseAddress!, buffer.baseAddress!, rows: 0..<rows)
            }
            initialized = n
        }
    }
}

/// A strided slice of every axis of a tensor: per axis the first index, the step (non-zero, may be
/// negative) and the number of elements taken.
public struct Slicing: Sendable, Equatable {
    public var starts: [Int], steps: [Int], counts: [Int]
    public init(starts: [Int], steps: [Int], counts: [Int]) {
        self.starts = starts; self.steps = steps; self.counts = counts
    }

    /// ONNX's Slice on `dims`: for each of `axes`, `start` and `end` clamped as the operator
    /// specifies for the step's sign; other axes are kept whole. Nil when a step is 0.
    public static func onnx(dims: [Int], starts: [Int], ends: [Int], axes: [Int], steps: [Int]) -> Slicing? {
        var s = Slicing(starts: [Int](repeating: 0, count: dims.count), steps: [Int](repeating: 1, count: dims.count), counts: dims)
        for (k, axis) in axes.enumerated() {
            let n = dims[axis], step = max(steps[k], -Int.max)
            guard step != 0 else { return nil }
            func resolve(_ v: Int) -> Int { v < 0 ? v + n : v }
            var b = resolve(starts[k]), e = resolve(ends[k])
            if step > 0 {
                b = min(max(b, 0), n); e = min(max(e, 0), n)
                s.counts[axis] = e > b ? (e - b - 1) / step + 1 : 0
            } else {
                b = min(max(b, 0), n - 1); e = min(max(e, -1), n - 1)
                s.counts[axis] = b > e ? (b - e - 1) / (-step) + 1 : 0
            }
            s.starts[axis] = s.counts[axis] > 0 ? b : 0
            s.steps[axis] = step
        }
        return s
    }
}
