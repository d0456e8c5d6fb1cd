import Foundation

/// LogSoftmax along one axis: y = x − max − ln Σ e^(x − max).
struct LogSoftmaxOp: Op {
    let axis: Int

    var kindName: String { "LogSoftmax" }

    func outputShape(_ check: ShapeCheck) throws -> Shape { try AxisLines.outputShape(check, axis: axis) }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        let lines = AxisLines(context.inputs[0], axis: axis)
        let length = lines.length, inner = lines.inner
        return ForwardPlan { b in
            let x = b.x, y = b.output
            return Work(tasks: lines.outer * inner) { t, _ in
                let base = lines.base(t)
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
        let lines = AxisLines(c.outputShape, axis: axis)
        let length = lines.length, inner = lines.inner
        let gx = c.gx, gy = c.gy, y = c.output, set = c.set
        return [Work(tasks: lines.outer * inner) { t, _ in
            let base = lines.base(t)
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
