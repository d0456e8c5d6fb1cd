/// Tanh: y = tanh(x) (ONNX Tanh, element-wise, any shape).
struct TanhOp: Op {
    var kindName: String { "Tanh" }
    func outputShape(_ check: ShapeCheck) throws -> Shape { try check.sameShape() }
    func forward(_ context: ForwardContext) -> ForwardPlan {
        .elementwise(context.output.count) { x, y, n in Elementwise.tanh(x, y, n) }
    }
    /// The local derivative 1 − y² at the forward output, in every mode (like Sigmoid).
    func backward(_ c: BackwardContext) -> [Work] { [c.localDerivative { y in 1 - y * y }] }
}
