/// Pad in `reflect` mode (the border mirrored, the edge itself not repeated) or `edge` mode (the
/// border value repeated): `begins` and `ends` per dimension. Each output element copies one input
/// element, found through one index map per dimension.
struct PadEdgeOp: Op {
    let begins: [Int], ends: [Int]
    let reflect: Bool

    var kindName: String { "Pad" }

    func outputShape(_ check: ShapeCheck) throws -> Shape {
        let out = try PadOp.paddedShape(check, begins: begins, ends: ends)
        let s = check.first
        for d in 0..<s.rank where reflect && (begins[d] >= s[d] || ends[d] >= s[d]) && (begins[d] > 0 || ends[d] > 0) {
            throw check.fail("Pad mode 'reflect' needs pads smaller than the dimension: \(begins[d]) and \(ends[d]) on dimension \(d) of \(s)")
        }
        return out
    }

    /// For each dimension, the input index each output index copies.
    private func indexMaps(input: Shape, output: Shape) -> [[Int]] {
        (0..<input.rank).map { d in
            let n = input[d]
            return (0..<output[d]).map { o in
                let i = o - begins[d]
                if reflect { return i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i) }
                return Swift.min(Swift.max(i, 0), n - 1)
            }
        }
    }

    /// Each output row's source row offset (every dimension but the last), and the last
    /// dimension's map: output element (row r, j) copies input element rows[r] + last[j].
    private func plan(input: Shape, output: Shape) -> (rows: [Int], last: [Int]) {
        let maps = indexMaps(input: input, output: output)
        let inStrides = input.strides, outDims = output.dims, rank = outDims.count
        let rows = (0..<outDims.dropLast().reduce(1, *)).map { r -> Int in
            var rem = r, o = 0
            for d in stride(from: rank - 2, through: 0, by: -1) {
                let k = rem % outDims[d]; rem /= outDims[d]
                o += maps[d][k] * inStrides[d]
            }
            return o
        }
        return (rows, maps[rank - 1])
    }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        let (rows, last) = plan(input: context.inputs[0], output: context.output)
        let width = last.count
        return ForwardPlan { b in
            let x = b.x, y = b.output
            return Work(tasks: rows.count) { r, _ in
                let src = x + rows[r], dst = y + r * width
                for j in 0..<width { dst[j] = src[last[j]] }
            }
        }
    }

    /// Each output's gradient goes back to the input element it copied (summed where several
    /// copied the same one), in every mode.
    func backward(_ c: BackwardContext) -> [Work] {
        let (rows, last) = plan(input: c.inputShape, output: c.outputShape)
        let width = last.count, n = c.inputShape.count
        let gx = c.gx, gy = c.gy, set = c.set
        return [Work.serial {
            if set { gx.update(repeating: 0, count: n) }
            for (r, o) in rows.enumerated() {
                for j in 0..<width { gx[o + last[j]] += gy[r * width + j] }
            }
        }]
    }

    /// The map shifts by the begin pads (as for constant padding).
    func receptiveField(_ context: FieldContext) -> ReceptiveField { PadOp.shifted(context.first, begins: begins) }
}
