/// Pad (constant): `begins` and `ends` per dimension, filled with `value`.
struct PadOp: Op {
    let begins: [Int], ends: [Int]
    let value: Float

    var kindName: String { "Pad" }

    func outputShape(_ check: ShapeCheck) throws -> Shape { try PadOp.paddedShape(check, begins: begins, ends: ends) }

    /// The shape rule of every Pad mode: one input, `begins` and `ends` for each of its dimensions.
    static func paddedShape(_ check: ShapeCheck, begins b: [Int], ends e: [Int]) throws -> Shape {
        try check.inputs(1)
        let s = check.first
        guard b.count == s.rank, e.count == s.rank else { throw check.fail("Pad has \(b.count) pads for rank \(s.rank)") }
        guard b.allSatisfy({ $0 >= 0 }), e.allSatisfy({ $0 >= 0 }) else {
            throw check.fail("negative pads (cropping) are not supported")
        }
        return Shape((0..<s.rank).map { s[$0] + b[$0] + e[$0] })
    }

    /// Where each innermost row of the input lands in the output (the one index walk the forward
    /// pass and the projection share): row r of the input, of `dims.last` elements, starts at
    /// output offset `rows[r]`.
    private func rowOffsets(input: Shape, output: Shape) -> [Int] {
        let inDims = input.dims, outStrides = output.strides, rank = inDims.count
        return (0..<inDims.dropLast().reduce(1, *)).map { r in
            var rem = r, o = begins[rank - 1]
            for d in stride(from: rank - 2, through: 0, by: -1) {
                let k = rem % inDims[d]; rem /= inDims[d]
                o += (k + begins[d]) * outStrides[d]
            }
            return o
        }
    }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        let rows = rowOffsets(input: context.inputs[0], output: context.output)
        let row = context.inputs[0].dims.last!, n = context.output.count, value = value
        return ForwardPlan { b in
            let x = b.x, y = b.output
            return Work.serial {
                y.update(repeating: value, count: n)
                for (r, o) in rows.enumerated() { (y + o).update(from: x + r * row, count: row) }
            }
        }
    }

    /// Crops the gradient, in every mode.
    func backward(_ c: BackwardContext) -> [Work] {
        let rows = rowOffsets(input: c.inputShape, output: c.outputShape)
        let row = c.inputShape.dims.last!
        let gx = c.gx, gy = c.gy, set = c.set
        return [Work.serial {
            for (r, o) in rows.enumerated() {
                for i in 0..<row { put(gx + r * row + i, gy[o + i], set) }
            }
        }]
    }

    /// The map shifts by the begin pads.
    func receptiveField(_ context: FieldContext) -> ReceptiveField { PadOp.shifted(context.first, begins: begins) }

    /// A field after padding an NCHW map by `begins`: its grid starts that many units earlier.
    static func shifted(_ field: ReceptiveField, begins: [Int]) -> ReceptiveField {
        var r = field
        if begins.count == 4 {
            r.startY -= Double(begins[2]) * r.jumpY
            r.startX -= Double(begins[3]) * r.jumpX
        }
        return r
    }
}
