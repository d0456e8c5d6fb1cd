import Foundation

/// LRN: local response normalization across channels (AlexNet, GoogLeNet), ONNX semantics.
struct LRNOp: Op {
    let parameters: LocalResponseNorm

    var kindName: String { "LRN" }

    func outputShape(_ check: ShapeCheck) throws -> Shape {
        try check.inputs(1)
        _ = try check.nchw()
        guard parameters.size >= 1 else { throw check.fail("LRN size must be at least 1") }
        return check.first
    }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        let s = context.inputs[0]
        let (n, c, plane) = (s[0], s[1], s[2] * s[3])
        let prm = parameters
        return ForwardPlan { b in
            let x = b.x, y = b.output
            let chunk = 1024
            let per = (plane + chunk - 1) / chunk
            return Work(tasks: n * per) { t, _ in
                let img = t / per, s = (t % per) * chunk
                Normalization.lrn(x + img * c * plane, y + img * c * plane, channels: c, plane: plane,
                                  start: s, end: min(plane, s + chunk), prm)
            }
        }
    }

    /// The local derivative at the forward input, in every mode: y_c = x_c·d_c^−β with
    /// d_c = bias + α/n·Σ_{j∈N(c)} x_j², so
    /// ∂L/∂x_j = g_j·d_j^−β − (2αβ/n)·x_j·Σ_{c: j∈N(c)} g_c·x_c·d_c^(−β−1).
    func backward(_ ctx: BackwardContext) -> [Work] {
        let x = ctx.input(0)
        let s = ctx.inputShape
        let (n, c, plane) = (s[0], s[1], s[2] * s[3])
        let prm = parameters
        let before = (prm.size - 1) / 2, after = prm.size - 1 - before
        let k = prm.alpha / Float(prm.size)
        let gx = ctx.gx, gy = ctx.gy, set = ctx.set
        return [Work(tasks: n * plane) { t, _ in
            let img = t / plane, i = t % plane
            let xs = x + img * c * plane + i, gys = gy + img * c * plane + i, gxs = gx + img * c * plane + i
            func d(_ ch: Int) -> Float {
                var s: Float = 0
                for j in max(0, ch - before)...min(c - 1, ch + after) { s += xs[j * plane] * xs[j * plane] }
                return prm.bias + k * s
            }
            for j in 0..<c {
                var acc: Float = 0
                // Channels whose window contains j: ch − before ≤ j ≤ ch + after.
                for ch in max(0, j - after)...min(c - 1, j + before) {
                    let dc = d(ch)
                    acc += gys[ch * plane] * xs[ch * plane] * powf(dc, -prm.beta - 1)
                }
                put(gxs + j * plane, gys[j * plane] * powf(d(j), -prm.beta) - 2 * k * prm.beta * xs[j * plane] * acc, set)
            }
        }]
    }
}
