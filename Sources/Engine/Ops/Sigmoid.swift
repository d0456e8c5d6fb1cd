/// Sigmoid: y = 1 / (1 + e^−x).
struct SigmoidOp: Op {
    var kindName: String { "Sigmoid" }
    func outputShape(_ check: ShapeCheck) throws -> Shape { try check.sameShape() }
    func forward(_ context: ForwardContext) -> ForwardPlan {
        .elementwise(context.output.count) { x, y, n in Elementwise.sigmoid(x, y, n) }
    }
    /// The local derivative y·(1 − y) at the forward output, in every mode.
    func backward(_ c: BackwardContext) -> [Work] { [c.localDerivative { y in y * (1 - y) }] }
}
