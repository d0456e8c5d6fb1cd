/// What Add and Mul share: broadcast shapes, the broadcast loop and its backward pass.
enum Binary {
    static func outputShape(_ check: ShapeCheck) throws -> Shape {
        try check.inputs(2)
        guard let s = Graph.broadcast(check.inputs[0], check.inputs[1]) else {
            throw check.fail("cannot broadcast \(check.inputs[0]) with \(check.inputs[1])")
        }
        return s
    }

    static func forward(_ context: ForwardContext, multiply: Bool) -> ForwardPlan {
        let plan = BroadcastPlan(a: context.inputs[0], b: context.inputs[1], out: context.output)
        return ForwardPlan { b in
            let x = b.inputs[0], other = b.inputs[1], y = b.output
            return Work.flat(context.output.count) { s, e in plan.run(x, other, y, start: s, end: e, multiply: multiply) }
        }
    }

    static func backward(_ c: BackwardContext, multiply isMul: Bool) -> [Work] {
        let count = c.count
        let av = c.inputValues[0], bv = c.inputValues[1]
        let aShape = c.inputShapes[0], bShape = c.inputShapes[1]
        let aConst = c.isConstant[0], bConst = c.isConstant[1]
        let ga = c.gradients[0], gb = c.gradients[1], gy = c.gy
        let setA = c.first[0], setB = c.first[1]
        if !isMul && av != bv && aShape.count == count && bShape.count == count {
            // The residual case: the gradient passes unchanged to both inputs.
            return [Work.flat(count) { s, e in
                if !aConst { store(ga, s, e, setA) { i in gy[i] } }
                if !bConst { store(gb, s, e, setB) { i in gy[i] } }
            }]
        }
        let plan = BroadcastPlan(a: aShape, b: bShape, out: c.outputShape)
        // Only a product reads the operands.
        let a = isMul ? c.input(0) : gy, b = isMul ? c.input(1) : gy
        return [Work.serial {
            // A broadcast operand sums over several outputs: clear it first, then add.
            if setA { ga.update(repeating: 0, count: aShape.count) }
            if setB && !(bv == av) { gb.update(repeating: 0, count: bShape.count) }
            for i in 0..<count {
                let (ia, ib) = plan.sourceIndices(i)
                let g = gy[i]
                if !aConst { ga[ia] += isMul ? g * b[ib] : g }
                if !bConst { gb[ib] += isMul ? g * a[ia] : g }
            }
        }]
    }
}
