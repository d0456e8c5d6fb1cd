/// Tile: the input repeated `repeats[a]` times along each axis a.
struct TileOp: Op {
    let repeats: [Int]

    var kindName: String { "Tile" }

    func outputShape(_ check: ShapeCheck) throws -> Shape {
        try check.inputs(1)
        let s = check.first
        guard repeats.count == s.rank, repeats.allSatisfy({ $0 >= 0 }) else {
            throw check.fail("repeats \(repeats) do not give one non-negative count per axis of \(s)")
        }
        return Shape((0..<s.rank).map { s[$0] * repeats[$0] })
    }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        LayoutStep.forward(.tile(context.inputs[0], repeats: repeats))
    }

    /// Each input element's gradient is the sum over its copies, in every mode.
    func backward(_ c: BackwardContext) -> [Work] {
        [LayoutStep.backward(c, .tile(c.inputShape, repeats: repeats))]
    }

    /// Repeating rows or columns breaks the grid (every unit could be any copy); repeating
    /// channels or the batch keeps it.
    func receptiveField(_ context: FieldContext) -> ReceptiveField {
        let r = repeats.count
        return r >= 3 && repeats[r - 2] == 1 && repeats[r - 1] == 1 ? context.first : context.whole
    }
}
