/// Slice (and each output of Split): a strided window of every axis of the input.
struct SliceOp: Op {
    let slicing: Slicing

    var kindName: String { "Slice" }

    func outputShape(_ check: ShapeCheck) throws -> Shape {
        try check.inputs(1)
        let s = check.first
        guard slicing.starts.count == s.rank, slicing.steps.count == s.rank, slicing.counts.count == s.rank else {
            throw check.fail("the slice has \(slicing.starts.count) axes for an input of rank \(s.rank)")
        }
        for a in 0..<s.rank where slicing.counts[a] > 0 {
            let last = slicing.starts[a] + (slicing.counts[a] - 1) * slicing.steps[a]
            guard slicing.steps[a] != 0, slicing.starts[a] >= 0, slicing.starts[a] < s[a], last >= 0, last < s[a] else {
                throw check.fail("the slice of axis \(a) reaches outside the input \(s)")
            }
        }
        return Shape(slicing.counts)
    }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        LayoutStep.forward(.slice(context.inputs[0], slicing))
    }

    /// The gradient goes back to the elements the slice took; the others get 0. In every mode.
    func backward(_ c: BackwardContext) -> [Work] {
        [LayoutStep.backward(c, .slice(c.inputShape, slicing))]
    }

    /// Slicing rows or columns of an NCHW map moves and strides its grid; slicing channels or the
    /// batch keeps it.
    func receptiveField(_ context: FieldContext) -> ReceptiveField {
        guard context.output.rank == 4 else { return context.whole }
        var f = context.first
        f.startY += Double(slicing.starts[2]) * f.jumpY
        f.startX += Double(slicing.starts[3]) * f.jumpX
        f.jumpY *= Double(slicing.steps[2])
        f.jumpX *= Double(slicing.steps[3])
        return f
    }
}
