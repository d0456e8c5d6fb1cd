/// LayerNormalization: the input as [outer, inner] at `axis` (inner: every dimension from `axis`
/// on); each row standardized, then y = x̂ · scale[i] + bias[i] element by element of the row.
struct LayerNormOp: Op {
    let axis: Int
    /// `inner` values each.
    let scale: [Float], bias: [Float]
    let epsilon: Float

    var kindName: String { "LayerNormalization" }

    func outputShape(_ check: ShapeCheck) throws -> Shape {
        let s = try check.sameShape()
        guard axis >= 0 && axis < s.rank else { throw check.fail("LayerNormalization axis \(axis) outside rank \(s.rank)") }
        let inner = s.dims[axis...].reduce(1, *)
        guard scale.count == inner, bias.count == inner else {
            throw check.fail("LayerNormalization has \(scale.count) scales for rows of \(inner) values")
        }
        return s
    }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        let s = context.inputs[0]
        let inner = s.dims[axis...].reduce(1, *), eps = epsilon
        return ForwardPlan(parameters: [scale, bias]) { b in
            let x = b.x, y = b.output, scale = b.parameters[0], bias = b.parameters[1]
            return Work(tasks: s.count / inner) { r, _ in
                Standardize.forward(x + r * inner, y + r * inner, inner, epsilon: eps,
                                    scale: { scale[$0] }, shift: { bias[$0] })
            }
        }
    }

    /// The true gradient of the row's standardization times the scale, in every mode.
    func backward(_ c: BackwardContext) -> [Work] {
        let s = c.inputShape
        let inner = s.dims[axis...].reduce(1, *), eps = epsilon
        let gx = c.gx, gy = c.gy, set = c.set, x = c.input(0)
        let scales = c.resources.retain(scale)
        return [Work(tasks: s.count / inner) { r, _ in
            let o = r * inner
            Standardize.backward(x + o, gy + o, gx + o, inner, set: set, epsilon: eps) { scales[$0] }
        }]
    }

    /// Normalizing over the last axis only (channels, in an NHWC layout) keeps the field; rows
    /// that span more make every unit see the whole input.
    func receptiveField(_ context: FieldContext) -> ReceptiveField {
        axis == context.output.rank - 1 ? context.first : context.whole
    }

    func cost(output: Shape) -> OpCost { OpCost(macs: 2 * output.count, parameters: 2 * scale.count) }
}
