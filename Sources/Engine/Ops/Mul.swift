/// Mul with NumPy broadcasting; either input may be a constant.
struct MulOp: Op {
    var kindName: String { "Mul" }
    func outputShape(_ check: ShapeCheck) throws -> Shape { try Binary.outputShape(check) }
    func forward(_ context: ForwardContext) -> ForwardPlan { Binary.forward(context, multiply: true) }
    /// Scales the gradient by the other input (summed over broadcast dimensions), in every mode.
    func backward(_ c: BackwardContext) -> [Work] { Binary.backward(c, multiply: true) }
    func receptiveField(_ context: FieldContext) -> ReceptiveField { context.widest }
}
