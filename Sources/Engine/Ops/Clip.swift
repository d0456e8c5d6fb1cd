/// Clip(lo, hi): y = min(max(x, lo), hi) (ReLU6 is Clip(0, 6)). Fused into a convolution before it
/// when it is that convolution's only reader.
struct ClipOp: Op {
    let lo: Float, hi: Float

    var kindName: String { "Clip" }
    var epilogue: FusedActivation? { .clip(lo: lo, hi: hi) }

    func outputShape(_ check: ShapeCheck) throws -> Shape { try check.sameShape() }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        let lo = lo, hi = hi
        return .elementwise(context.output.count) { x, y, n in Elementwise.clip(x, y, n, lo: lo, hi: hi) }
    }

    /// | `gradient` g·[lo < x < hi] | `deconv` max(g, 0) when lo = 0, else g·[lo < x < hi] |
    /// `guided` g·[lo < x < hi]·[g > 0] |. lo < x < hi exactly when lo < y < hi (y = clip(x)), so
    /// the mask needs only the output.
    func backward(_ c: BackwardContext) -> [Work] {
        let gx = c.gx, gy = c.gy, y = c.output, set = c.set, settings = c.settings
        let lo = lo, hi = hi
        return [Work.flat(c.count) { s, e in
            switch settings.mode {
            case .deconv where lo == 0:
                store(gx, s, e, set) { i in gy[i] > 0 ? gy[i] : 0 }
            case .gradient, .deconv:
                store(gx, s, e, set) { i in y[i] > lo && y[i] < hi ? gy[i] : 0 }
            case .guided:
                store(gx, s, e, set) { i in y[i] > lo && y[i] < hi && gy[i] > 0 ? gy[i] : 0 }
            }
        }]
    }
}
