/// Relu: y = max(x, 0). Fused into a convolution before it when it is that convolution's only reader.
struct ReluOp: Op {
    var kindName: String { "Relu" }
    var epilogue: FusedActivation? { .relu }

    func outputShape(_ check: ShapeCheck) throws -> Shape { try check.sameShape() }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        .elementwise(context.output.count) { x, y, n in Elementwise.relu(x, y, n) }
    }

    /// | `gradient` g·[x > 0] | `deconv` max(g, 0) | `guided` g·[x > 0]·[g > 0] |, with x > 0 exactly
    /// when y > 0, so only the output is read.
    func backward(_ c: BackwardContext) -> [Work] {
        let gx = c.gx, gy = c.gy, y = c.output, set = c.set, settings = c.settings
        return [Work.flat(c.count) { s, e in
            switch settings.mode {
            case .gradient: store(gx, s, e, set) { i in y[i] > 0 ? gy[i] : 0 }
            case .deconv: store(gx, s, e, set) { i in gy[i] > 0 ? gy[i] : 0 }
            case .guided: store(gx, s, e, set) { i in y[i] > 0 && gy[i] > 0 ? gy[i] : 0 }
            }
        }]
    }
}
