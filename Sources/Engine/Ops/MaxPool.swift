/// MaxPool: the largest value of each window. The forward pass records each output's switch (the
/// first maximum of its window in row-major order) for the projection.
struct MaxPoolOp: Op {
    let window: Window

    var kindName: String { "MaxPool" }

    func outputShape(_ check: ShapeCheck) throws -> Shape { try Pool.outputShape(check, window: window) }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        let s = context.inputs[0], o = context.output
        let (c, h, w, oh, ow) = (s[0] * s[1], s[2], s[3], o[2], o[3])
        let win = window
        return ForwardPlan(switches: o.count) { b in
            let x = b.x, y = b.output, sw = b.switches!
            return Work(tasks: c) { p, _ in
                Pool.max(x + p * h * w, h: h, w: w, window: win, oh: oh, ow: ow, y + p * oh * ow,
                         switches: sw + p * oh * ow)
            }
        }
    }

    /// Routes each output's gradient to its switch, in every mode (padding never wins).
    func backward(_ c: BackwardContext) -> [Work] {
        let sw = c.switches!
        let out = c.outputShape, input = c.inputShape
        let planes = out[0] * out[1]
        let outPlane = out[2] * out[3], inPlane = input[2] * input[3]
        let gx = c.gx, gy = c.gy, set = c.set
        return [Work(tasks: planes) { p, _ in
            if set { (gx + p * inPlane).update(repeating: 0, count: inPlane) }
            for i in 0..<outPlane {
                let k = Int(sw[p * outPlane + i])
                if k >= 0 { gx[p * inPlane + k] += gy[p * outPlane + i] }
            }
        }]
    }

    func receptiveField(_ context: FieldContext) -> ReceptiveField { context.first.through(window) }
}
