/// Reshape and Flatten: the same data under the given shape.
struct ReshapeOp: Op {
    let target: Shape

    var kindName: String { "Reshape" }

    func outputShape(_ check: ShapeCheck) throws -> Shape {
        try check.inputs(1)
        guard target.count == check.first.count else {
            throw check.fail("cannot reshape \(check.first) (\(check.first.count) values) to \(target)")
        }
        return target
    }

    func forward(_ context: ForwardContext) -> ForwardPlan { ForwardPlan(build: Copy.work(context.output.count)) }

    /// The gradient passes through, in every mode.
    func backward(_ c: BackwardContext) -> [Work] { [Copy.backward(c)] }

    /// A map that stays NCHW keeps its field; flattened, every unit sees the whole input.
    func receptiveField(_ context: FieldContext) -> ReceptiveField {
        context.output.rank == 4 ? context.first : context.whole
    }
}
