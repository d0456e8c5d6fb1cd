/// Add with NumPy broadcasting; either input may be a constant.
struct AddOp: Op {
    var kindName: String { "Add" }
    func outputShape(_ check: ShapeCheck) throws -> Shape { try Binary.outputShape(check) }
    func forward(_ context: ForwardContext) -> ForwardPlan { Binary.forward(context, multiply: false) }
    /// Passes the gradient to both inputs (summed over broadcast dimensions), in every mode.
    func backward(_ c: BackwardContext) -> [Work] { Binary.backward(c, multiply: false) }
    func receptiveField(_ context: FieldContext) -> ReceptiveField { context.widest }
}
