import Foundation

/// LogSoftmax along one axis: y = x − max − ln Σ e^(x − max).
struct LogSoftmaxOp: Op {
    let axis: Int

    var kindName: String { "LogSoftmax" }

    func outputShape(_ check: ShapeCheck) throws -> Shape {
        try check.inputs(1)
        guard axis >= 0 && axis < check.first.rank else {
            throw check.fail("LogSoftmax axis \(axis) outside rank \(check.first.rank)")
        }
        return check.first
    }

    /// Elements before the axis, along it, and after it.
    private func extents(_ s: Shape) -> (outer: Int, length: Int, inner: Int) {
        (s.dims[..<axis].reduce(1, *), s[axis], s.dims[(axis + 1)...].reduce(1, *))
    }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        let (outer, length, inner) = extents(context.inputs[0])
        return ForwardPlan { b in
            let x = b.x, y = b.output
            return Work(tasks: outer * inner) { t, _ in
                let base = (t / inner) * length * inner + t % inner
                var m = -Float.infinity
                for k in 0..<length { m = Swift.max(m, x[base + k * inner]) }
                var s: Float = 0
                for k in 0..<length { s += expf(x[base + k * inner] - m) }
                let shift = m + logf(s)
                for k in 0..<length { y[base + k * inner] = x[base + k * inner] - shift }
            }
        }
    }

    /// The local derivative at the forward output, g − e^y · Σ g, in every mode.
    func backward(_ c: BackwardContext) -> [Work] {
        let (outer, length, inner) = extents(c.outputShape)
        let gx = c.gx, gy = c.gy, y = c.output, set = c.set
        return [Work(tasks: outer * inner) { t, _ in
            let base = (t / inner) * length * inner + t % inner
            var total: Float = 0
            for k in 0..<length { total += gy[base + k * inner] }
            for k in 0..<length {
                let j = base + k * inner
                put(gx + j, gy[j] - expf(y[j]) * total, set)
            }
        }]
    }

    func receptiveField(_ context: FieldContext) -> ReceptiveField { context.whole }
}
