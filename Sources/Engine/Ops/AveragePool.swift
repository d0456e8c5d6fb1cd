/// AveragePool: the mean of each window, over the positions `Pool.divisor` counts.
struct AveragePoolOp: WindowedPool {
    let window: Window
    let countIncludePad: Bool

    var kindName: String { "AveragePool" }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        let g = Pool.Geometry(input: context.inputs[0], output: context.output)
        let (h, w, oh, ow) = (g.h, g.w, g.oh, g.ow)
        let win = window, inc = countIncludePad
        return ForwardPlan { b in
            let x = b.x, y = b.output
            return Work(tasks: g.planes) { p, _ in
                Pool.average(x + p * h * w, h: h, w: w, window: win, countIncludePad: inc, oh: oh, ow: ow, y + p * oh * ow)
            }
        }
    }

    /// Spreads each output's gradient evenly over the positions its forward divisor counted, in
    /// every mode.
    func backward(_ c: BackwardContext) -> [Work] {
        let g = Pool.Geometry(input: c.inputShape, output: c.outputShape)
        let (h, w, oh, ow) = (g.h, g.w, g.oh, g.ow)
        let win = window, inc = countIncludePad
        let gx = c.gx, gy = c.gy, set = c.set
        return [Work(tasks: g.planes) { p, _ in
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
}
