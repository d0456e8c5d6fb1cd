/// What Transpose, Slice and Tile share: each is a `StridedView` of its input, so the forward step
/// gathers rows of the view in parallel and the backward step scatters the gradient back through
/// the same view, in every projection mode (the gradient only moves).
enum LayoutStep {
    /// Rows of the view per task: enough elements per task to be worth handing out.
    static func rowsPerTask(_ view: StridedView) -> Int {
        let perRow = max(view.dims.last ?? 1, 1)
        return max(1, Work.flatChunk / perRow)
    }

    static func forward(_ view: StridedView) -> ForwardPlan {
        ForwardPlan { b in
            let x = b.x, y = b.output
            let rows = view.rows, chunk = rowsPerTask(view)
            return Work(tasks: (rows + chunk - 1) / chunk) { t, _ in
                view.gather(x, y, rows: (t * chunk)..<min(rows, (t + 1) * chunk))
            }
        }
    }

    /// gx = the gradient scattered through the view (summed where the view repeats a source
    /// element, zero where it reads none).
    static func backward(_ c: BackwardContext, _ view: StridedView) -> Work {
        let gx = c.gx, gy = c.gy, set = c.set, inputCount = c.inputShape.count
        let rows = view.rows
        return Work.serial {
            if set { gx.update(repeating: 0, count: inputCount) }
            view.scatterAdd(gy, gx, rows: 0..<rows)
        }
    }
}
