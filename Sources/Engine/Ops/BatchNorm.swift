/// BatchNormalization (inference) as a per-channel affine y = x · scale[c] + shift[c]. Folded into
/// the convolution before it when that convolution feeds nothing else (`Graph.foldBatchNorms`).
struct BatchNormOp: Op {
    let scale: [Float], shift: [Float]

    var kindName: String { "BatchNormalization" }

    func outputShape(_ check: ShapeCheck) throws -> Shape {
        try check.inputs(1)
        let s = check.first
        guard s.rank >= 2, s[1] == scale.count, shift.count == scale.count else {
            throw check.fail("BatchNormalization has \(scale.count) channels, input is \(s)")
        }
        return s
    }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        let s = context.inputs[0]
        let channels = s[1], inner = s.count / (s[0] * s[1])
        let planes = context.output.count / inner
        return ForwardPlan(parameters: [scale, shift]) { b in
            let x = b.x, y = b.output
            let scale = b.parameters[0], shift = b.parameters[1]
            return Work(tasks: planes) { p, _ in
                let c = p % channels
                let a = scale[c], bb = shift[c]
                let xs = x + p * inner, ys = y + p * inner
                for i in 0..<inner { ys[i] = xs[i] * a + bb }
            }
        }
    }

    /// Its per-channel scale, in every mode.
    func backward(_ c: BackwardContext) -> [Work] {
        let count = c.count, channels = scale.count, inner = count / (c.outputShape[0] * channels)
        let gx = c.gx, gy = c.gy, set = c.set
        let s = scale
        return [Work.serial {
            s.withUnsafeBufferPointer { sc in
                for p in 0..<(count / inner) {
                    let a = sc[p % channels]
                    for i in 0..<inner { put(gx + p * inner + i, gy[p * inner + i] * a, set) }
                }
            }
        }]
    }

    func cost(output: Shape) -> OpCost { OpCost(macs: output.count, parameters: scale.count + shift.count) }
}
