/// Identity and Dropout (inference): the input, copied.
struct IdentityOp: Op {
    var kindName: String { "Identity" }

    func outputShape(_ check: ShapeCheck) throws -> Shape { try check.sameShape() }

    func forward(_ context: ForwardContext) -> ForwardPlan { ForwardPlan(build: Copy.work(context.output.count)) }

    /// The gradient passes through, in every mode.
    func backward(_ c: BackwardContext) -> [Work] { [Copy.backward(c)] }
}

/// The same data under another name or shape: Identity, Dropout, Reshape and Flatten.
enum Copy {
    /// A forward step copying `count` elements from the input to the output.
    static func work(_ count: Int) -> (ForwardBinding) -> Work {
        { b in
            let x = b.x, y = b.output
            return Work.serial { y.update(from: x, count: count) }
        }
    }

    /// The gradient passed through unchanged.
    static func backward(_ c: BackwardContext) -> Work {
        let gx = c.gx, gy = c.gy, set = c.set
        return Work.flat(c.count) { s, e in store(gx, s, e, set) { i in gy[i] } }
    }
}
