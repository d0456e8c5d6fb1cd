/// LeakyRelu(a): y = x > 0 ? x : a·x. Fused into a convolution before it when it is that
/// convolution's only reader.
struct LeakyReluOp: Op {
    let alpha: Float

    var kindName: String { "LeakyRelu" }
    var epilogue: FusedActivation? { .leakyRelu(alpha: alpha) }

    func outputShape(_ check: ShapeCheck) throws -> Shape { try check.sameShape() }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        let a = alpha
        return .elementwise(context.output.count) { x, y, n in Elementwise.leakyRelu(x, y, n, alpha: a) }
    }

    /// | `gradient` g·(x > 0 ? 1 : a) | `deconv` g > 0 ? g : a·g | `guided` g·[g > 0]·(x > 0 ? 1 : a) |.
    /// For a ≥ 0, x > 0 exactly when y > 0; otherwise the input itself is read (a fused
    /// convolution's output, which the projector then materializes).
    func backward(_ c: BackwardContext) -> [Work] {
        let a = alpha
        let gx = c.gx, gy = c.gy, set = c.set, settings = c.settings
        let xs = a >= 0 ? c.output : c.input(0)
        return [Work.flat(c.count) { s, e in
            switch settings.mode {
            case .gradient: for i in s..<e { put(gx + i, xs[i] > 0 ? gy[i] : a * gy[i], set) }
            case .deconv: for i in s..<e { let g = gy[i]; put(gx + i, g > 0 ? g : a * g, set) }
            case .guided: for i in s..<e { put(gx + i, gy[i] > 0 ? (xs[i] > 0 ? gy[i] : a * gy[i]) : 0, set) }
            }
        }]
    }
}
