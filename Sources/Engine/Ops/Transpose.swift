/// Transpose: output axis j is input axis `perm[j]` (a channel shuffle's middle step, NHWC ↔ NCHW).
struct TransposeOp: Op {
    let perm: [Int]

    var kindName: String { "Transpose" }

    func outputShape(_ check: ShapeCheck) throws -> Shape {
        try check.inputs(1)
        let s = check.first
        guard perm.count == s.rank, perm.sorted() == Array(0..<s.rank) else {
            throw check.fail("perm \(perm) is not a permutation of the input's \(s.rank) axes")
        }
        return Shape(perm.map { s[$0] })
    }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        LayoutStep.forward(.transpose(context.inputs[0], perm: perm))
    }

    /// The gradient moves back through the inverse permutation, in every mode.
    func backward(_ c: BackwardContext) -> [Work] {
        [LayoutStep.backward(c, .transpose(c.inputShape, perm: perm))]
    }

    /// A map whose last two axes stay in place keeps its field (a channel shuffle); any other
    /// permutation mixes positions with channels, and every unit sees the whole input.
    func receptiveField(_ context: FieldContext) -> ReceptiveField {
        let r = perm.count
        return r >= 3 && perm[r - 2] == r - 2 && perm[r - 1] == r - 1 ? context.first : context.whole
    }
}
