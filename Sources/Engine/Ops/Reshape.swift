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

    /// A reshape that keeps the last two axes (rows and columns of a map: NCHW to NCHW, or the
    /// [N, groups, C/groups, H, W] of a channel shuffle) keeps the field; flattened, every unit sees
    /// the whole input.
    func receptiveField(_ context: FieldContext) -> ReceptiveField {
        context.output.rank >= 3 && context.sourceShape.rank >= 3
            && context.output.dims.suffix(2) == context.sourceShape.dims.suffix(2) ? context.first : context.whole
    }
}
