/// Sigmoid: y = 1 / (1 + e^−x).
struct SigmoidOp: Op {
    var kindName: String { "Sigmoid" }

    func outputShape(_ check: ShapeCheck) throws -> Shape {
        try check.inputs(1)
        return check.first
    }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        ForwardPlan { b in
            let x = b.x, y = b.output
            return Work.flat(context.output.count) { s, e in Elementwise.sigmoid(x + s, y + s, e - s) }
        }
    }

    /// The local derivative y·(1 − y) at the forward output, in every mode.
    func backward(_ c: BackwardContext) -> [Work] {
        let gx = c.gx, gy = c.gy, y = c.output, set = c.set
        return [Work.flat(c.count) { s, e in for i in s..<e { put(gx + i, gy[i] * y[i] * (1 - y[i]), set) } }]
    }
}
