/// Softmax along one axis.
struct SoftmaxOp: Op {
    let axis: Int

    var kindName: String { "Softmax" }

    func outputShape(_ check: ShapeCheck) throws -> Shape { try AxisLines.outputShape(check, axis: axis) }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        let l = AxisLines(context.inputs[0], axis: axis)
        let (outer, length, inner) = (l.outer, l.length, l.inner)
        return ForwardPlan { b in
            let x = b.x, y = b.output
            return Work(tasks: outer * inner) { t, _ in
                let o = t / inner, i = t % inner
                Normalization.softmax(x + o * length * inner + i, y + o * length * inner + i, length: length, inner: inner)
            }
        }
    }

    /// The local derivative at the forward output, y ⊙ (g − ⟨g, y⟩), in every mode.
    func backward(_ c: BackwardContext) -> [Work] {
        let l = AxisLines(c.outputShape, axis: axis)
        let (outer, length, inner) = (l.outer, l.length, l.inner)
        let gx = c.gx, gy = c.gy, y = c.output, set = c.set
        return [Work.serial {
            for o in 0..<outer {
                for i in 0..<inner {
                    let base = o * length * inner + i
                    var dot: Float = 0
                    for k in 0..<length { dot += gy[base + k * inner] * y[base + k * inner] }
                    for k in 0..<length {
                        let j = base + k * inner
                        put(gx + j, y[j] * (gy[j] - dot), set)
                    }
                }
            }
        }]
    }

    func receptiveField(_ context: FieldContext) -> ReceptiveField { context.whole }
}
