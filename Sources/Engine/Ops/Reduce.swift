/// What a reduction computes over its axes.
public enum ReduceKind: Sendable, Hashable {
    case mean, sum, max

    var kindName: String {
        switch self {
        case .mean: return "ReduceMean"
        case .sum: return "ReduceSum"
        case .max: return "ReduceMax"
        }
    }
}

/// ReduceMean, ReduceSum and ReduceMax over a set of axes (GlobalMaxPool is ReduceMax over the
/// plane, keeping its dimensions). The reduced axes, once those of size 1 are set aside, must be
/// adjacent: the input is then [outer, length, inner] and each output is one line of `length`.
struct ReduceOp: Op {
    let kind: ReduceKind
    /// Sorted, distinct, in range.
    let axes: [Int]
    let keepDims: Bool
    /// The ONNX name: ReduceMean, ReduceSum, ReduceMax or GlobalMaxPool.
    let name: String

    var kindName: String { name }

    /// Elements before the reduced block, in it, and after it; nil when the reduced axes (of size
    /// more than 1) are not adjacent.
    static func extents(_ s: Shape, axes: [Int]) -> (outer: Int, length: Int, inner: Int)? {
        let wide = axes.filter { s[$0] > 1 }
        guard let lo = wide.first, let hi = wide.last else { return (s.count, 1, 1) }
        for d in lo...hi where !axes.contains(d) && s[d] > 1 { return nil }
        return (s.dims[..<lo].reduce(1, *), s.dims[lo...hi].reduce(1, *), s.dims[(hi + 1)...].reduce(1, *))
    }

    func outputShape(_ check: ShapeCheck) throws -> Shape {
        try check.inputs(1)
        let s = check.first
        guard axes.allSatisfy({ $0 >= 0 && $0 < s.rank }), Set(axes).count == axes.count else {
            throw check.fail("\(name) axes \(axes) do not fit rank \(s.rank)")
        }
        guard ReduceOp.extents(s, axes: axes) != nil else {
            throw check.fail("\(name) over the axes \(axes) of \(s) is not supported: the reduced axes must be adjacent")
        }
        let dims = s.dims.indices.compactMap { d -> Int? in axes.contains(d) ? (keepDims ? 1 : nil) : s[d] }
        return Shape(dims)
    }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        let (outer, length, inner) = ReduceOp.extents(context.inputs[0], axes: axes)!
        let kind = kind
        let scale: Float = kind == .mean ? 1 / Float(length) : 1
        return ForwardPlan { b in
            let x = b.x, y = b.output
            return Work(tasks: outer) { o, _ in
                let xs = x + o * length * inner, ys = y + o * inner
                ys.update(from: xs, count: inner)
                for k in 1..<Swift.max(length, 1) {
                    let row = xs + k * inner
                    switch kind {
                    case .max: for i in 0..<inner where row[i] > ys[i] || ys[i].isNaN { ys[i] = row[i] }
                    case .sum, .mean: for i in 0..<inner { ys[i] += row[i] }
                    }
                }
                if scale != 1 { for i in 0..<inner { ys[i] *= scale } }
            }
        }
    }

    /// Sum: the gradient is copied to every reduced element; Mean: copied and divided by their
    /// number; Max: routed to the first maximum of each line. In every mode.
    func backward(_ c: BackwardContext) -> [Work] {
        let (outer, length, inner) = ReduceOp.extents(c.inputShape, axes: axes)!
        let gx = c.gx, gy = c.gy, set = c.set, kind = kind
        let scale: Float = kind == .mean ? 1 / Float(length) : 1
        let x = kind == .max ? c.input(0) : gy, y = kind == .max ? c.output : gy
        return [Work(tasks: outer) { o, _ in
            let gxs = gx + o * length * inner, gys = gy + o * inner
            switch kind {
            case .sum, .mean:
                for k in 0..<length {
                    for i in 0..<inner { put(gxs + k * inner + i, gys[i] * scale, set) }
                }
            case .max:
                let xs = x + o * length * inner, ys = y + o * inner
                if set { gxs.update(repeating: 0, count: length * inner) }
                for i in 0..<inner {
                    var k = 0
                    while k < length - 1 && xs[k * inner + i] != ys[i] { k += 1 }
                    gxs[k * inner + i] += gys[i]
                }
            }
        }]
    }

    /// A unit that reduces over the plane sees the whole input; over channels, what its input sees.
    func receptiveField(_ context: FieldContext) -> ReceptiveField {
        axes.contains { $0 >= 2 } ? context.whole : context.first
    }
}
