/// PRelu: y = x > 0 ? x : a·x with a learned slope a, one per channel (axis 1) or one for all.
struct PReluOp: Op {
    /// One slope per channel, or a single slope.
    let slope: [Float]

    var kindName: String { "PRelu" }

    func outputShape(_ check: ShapeCheck) throws -> Shape {
        let s = try check.sameShape()
        guard slope.count == 1 || (s.rank >= 2 && s[1] == slope.count) else {
            throw check.fail("PRelu has \(slope.count) slopes for input \(s); it needs 1 or one per channel")
        }
        return s
    }

    /// Elements per slope (a channel's plane) and slopes, for an input of shape `s`.
    private func layout(_ s: Shape) -> (inner: Int, channels: Int) {
        slope.count == 1 ? (s.count, 1) : (s.dims[2...].reduce(1, *), slope.count)
    }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        let (inner, channels) = layout(context.output)
        let planes = context.output.count / inner
        return ForwardPlan(parameters: [slope]) { b in
            let x = b.x, y = b.output, slope = b.parameters[0]
            return Work(tasks: planes) { p, _ in
                let a = slope[p % channels]
                Elementwise.leakyRelu(x + p * inner, y + p * inner, inner, alpha: a)
            }
        }
    }

    /// LeakyRelu's rule with the channel's slope a: | `gradient` g·(x > 0 ? 1 : a) |
    /// `deconv` g > 0 ? g : a·g | `guided` g·[g > 0]·(x > 0 ? 1 : a) |.
    func backward(_ c: BackwardContext) -> [Work] {
        let (inner, channels) = layout(c.outputShape)
        let planes = c.count / inner
        let gx = c.gx, gy = c.gy, set = c.set, settings = c.settings, x = c.input(0)
        let slopes = c.resources.retain(slope)
        return [Work(tasks: planes) { p, _ in
            let a = slopes[p % channels]
            let s = p * inner, e = s + inner
            switch settings.mode {
            case .gradient: for i in s..<e { put(gx + i, x[i] > 0 ? gy[i] : a * gy[i], set) }
            case .deconv: for i in s..<e { let g = gy[i]; put(gx + i, g > 0 ? g : a * g, set) }
            case .guided: for i in s..<e { put(gx + i, gy[i] > 0 ? (x[i] > 0 ? gy[i] : a * gy[i]) : 0, set) }
            }
        }]
    }

    func cost(output: Shape) -> OpCost { OpCost(macs: output.count, parameters: slope.count) }
}
