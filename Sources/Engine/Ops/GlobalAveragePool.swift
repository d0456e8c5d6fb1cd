/// GlobalAveragePool: the mean of each NCHW plane, [N, C, 1, 1].
struct GlobalAveragePoolOp: Op {
    var kindName: String { "GlobalAveragePool" }

    func outputShape(_ check: ShapeCheck) throws -> Shape {
        try check.inputs(1)
        let x = try check.nchw()
        return Shape([x.n, x.c, 1, 1])
    }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        let s = context.inputs[0]
        let planes = s[0] * s[1], size = s[2] * s[3]
        return ForwardPlan { b in
            let x = b.x, y = b.output
            let r = 1 / Float(size)
            return Work(tasks: (planes + 63) / 64) { t, _ in
                for p in (t * 64)..<min(planes, t * 64 + 64) {
                    var s: Float = 0
                    let xs = x + p * size
                    for i in 0..<size { s += xs[i] }
                    y[p] = s * r
                }
            }
        }
    }

    /// Spreads evenly over the plane, in every mode.
    func backward(_ c: BackwardContext) -> [Work] {
        let s = c.inputShape
        let planes = s[0] * s[1], size = s[2] * s[3]
        let r = 1 / Float(size)
        let gx = c.gx, gy = c.gy, set = c.set
        return [Work(tasks: planes) { p, _ in
            let g = gy[p] * r
            for i in 0..<size { put(gx + p * size + i, g, set) }
        }]
    }

    func receptiveField(_ context: FieldContext) -> ReceptiveField { context.whole }
}
