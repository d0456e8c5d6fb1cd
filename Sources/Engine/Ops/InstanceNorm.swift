/// InstanceNormalization: each NCHW plane standardized on its own, then y = x̂ · scale[c] + bias[c].
struct InstanceNormOp: Op {
    let scale: [Float], bias: [Float]
    let epsilon: Float

    var kindName: String { "InstanceNormalization" }

    func outputShape(_ check: ShapeCheck) throws -> Shape {
        let s = try check.sameShape()
        guard s.rank >= 3, s[1] == scale.count, bias.count == scale.count else {
            throw check.fail("InstanceNormalization has \(scale.count) channels, input is \(s)")
        }
        return s
    }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        let s = context.inputs[0]
        let channels = s[1], plane = s.dims[2...].reduce(1, *), eps = epsilon
        return ForwardPlan(parameters: [scale, bias]) { b in
            let x = b.x, y = b.output, scale = b.parameters[0], bias = b.parameters[1]
            return Work(tasks: s.count / plane) { p, _ in
                let a = scale[p % channels], c = bias[p % channels]
                Standardize.forward(x + p * plane, y + p * plane, plane, epsilon: eps, scale: { _ in a }, shift: { _ in c })
            }
        }
    }

    /// The true gradient of the plane's standardization times its scale, in every mode.
    func backward(_ c: BackwardContext) -> [Work] {
        let s = c.inputShape
        let channels = s[1], plane = s.dims[2...].reduce(1, *), eps = epsilon
        let gx = c.gx, gy = c.gy, set = c.set, x = c.input(0)
        let scales = c.resources.retain(scale)
        return [Work(tasks: s.count / plane) { p, _ in
            let a = scales[p % channels], o = p * plane
            Standardize.backward(x + o, gy + o, gx + o, plane, set: set, epsilon: eps) { _ in a }
        }]
    }

    /// Every unit depends on its whole plane.
    func receptiveField(_ context: FieldContext) -> ReceptiveField { context.whole }

    func cost(output: Shape) -> OpCost { OpCost(macs: 2 * output.count, parameters: 2 * scale.count) }
}
