/// AveragePool: the mean of each window, over the positions `Pool.divisor` counts.
struct AveragePoolOp: Op {
    let window: Window
    let countIncludePad: Bool

    var kindName: String { "AveragePool" }

    func outputShape(_ check: ShapeCheck) throws -> Shape { try Pool.outputShape(check, window: window) }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        let s = context.inputs[0], o = context.output
        let (c, h, w, oh, ow) = (s[0] * s[1], s[2], s[3], o[2], o[3])
        let win = window, inc = countIncludePad
        return ForwardPlan { b in
            let x = b.x, y = b.output
            return Work(tasks: c) { p, _ in
                Pool.average(x + p * h * w, h: h, w: w, window: win, countIncludePad: inc, oh: oh, ow: ow, y + p * oh * ow)
            }
        }
    }

    /// Spreads each output's gradient evenly over the positions its forward divisor counted, in
    /// every mode.
    func backward(_ c: BackwardContext) -> [Work] {
        let out = c.outputShape, input = c.inputShape
        let planes = out[0] * out[1]
        let (h, w, oh, ow) = (input[2], input[3], out[2], out[3])
        let win = window, inc = countIncludePad
        let gx = c.gx, gy = c.gy, set = c.set
        return [Work(tasks: planes) { p, _ in
            let gxp = gx + p * h * w, gyp = gy + p * oh * ow
            if set { gxp.update(repeating: 0, count: h * w) }
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let n = Pool.divisor(oy: oy, ox: ox, h: h, w: w, window: win, countIncludePad: inc)
                    guard n > 0 else { continue }
                    let share = gyp[oy * ow + ox] / Float(n)
                    Pool.forEachTap(oy: oy, ox: ox, h: h, w: w, window: win) { gxp[$0] += share }
                }
            }
        }]
    }

    func receptiveField(_ context: FieldContext) -> ReceptiveField { context.first.through(window) }
}
