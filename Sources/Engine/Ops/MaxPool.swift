/// MaxPool: the largest value of each window. The forward pass records each output's switch (the
/// first maximum of its window in row-major order) for the projection.
struct MaxPoolOp: WindowedPool {
    let window: Window

    var kindName: String { "MaxPool" }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        let g = Pool.Geometry(input: context.inputs[0], output: context.output)
        let (h, w, oh, ow) = (g.h, g.w, g.oh, g.ow)
        let win = window
        return ForwardPlan(switches: context.output.count) { b in
            let x = b.x, y = b.output, sw = b.switches!
            return Work(tasks: g.planes) { p, _ in
                Pool.max(x + p * h * w, h: h, w: w, window: win, oh: oh, ow: ow, y + p * oh * ow,
                         switches: sw + p * oh * ow)
            }
        }
    }

    /// Routes each output's gradient to its switch, in every mode (padding never wins).
    func backward(_ c: BackwardContext) -> [Work] {
        let sw = c.switches!
        let g = Pool.Geometry(input: c.inputShape, output: c.outputShape)
        let outPlane = g.oh * g.ow, inPlane = g.h * g.w
        let gx = c.gx, gy = c.gy, set = c.set
        return [Work(tasks: g.planes) { p, _ in
            if set { (gx + p * inPlane).update(repeating: 0, count: inPlane) }
            for i in 0..<outPlane {
                let k = Int(sw[p * outPlane + i])
                if k >= 0 { gx[p * inPlane + k] += gy[p * outPlane + i] }
            }
        }]
    }
}
