/// Tanh: y = tanh(x) (ONNX Tanh, element-wise, any shape).
struct TanhOp: Op {
    var kindName: String { "Tanh" }

    func outputShape(_ check: ShapeCheck) throws -> Shape {
        try check.inputs(1)
        return check.first
    }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        ForwardPlan { b in
            let x = b.x, y = b.output
            return Work.flat(context.output.count) { s, e in Elementwise.tanh(x + s, y + s, e - s) }
        }
    }

    /// The local derivative 1 − y² at the forward output, in every mode (like Sigmoid).
    func backward(_ c: BackwardContext) -> [Work] {
        let gx = c.gx, gy = c.gy, y = c.output, set = c.set
        return [Work.flat(c.count) { s, e in for i in s..<e { put(gx + i, gy[i] * (1 - y[i] * y[i]), set) } }]
    }
}
