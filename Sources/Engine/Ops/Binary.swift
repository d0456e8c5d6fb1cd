import Foundation

/// The elementwise binary family, with NumPy broadcasting: Add, Sub, Mul, Div, Pow, Max and Min (and,
/// through chains of them, the variadic Sum, Max and Min). Either input may be a constant.
///
/// One op type for the whole family: the shape rule, the broadcast loop and the backward walk
/// exist once; a kind only says what it computes and what its two partial derivatives are.
enum BinaryKind: Sendable, CaseIterable {
    case add, sub, mul, div, pow, max, min

    var kindName: String {
        switch self {
        case .add: return "Add"
        case .sub: return "Sub"
        case .mul: return "Mul"
        case .div: return "Div"
        case .pow: return "Pow"
        case .max: return "Max"
        case .min: return "Min"
        }
    }

    /// The value at (u, v).
    @inline(__always) func apply(_ u: Float, _ v: Float) -> Float {
        switch self {
        case .add: return u + v
        case .sub: return u - v
        case .mul: return u * v
        case .div: return u / v
        case .pow: return powf(u, v)
        case .max: return u >= v ? u : v
        case .min: return u <= v ? u : v
        }
    }

    /// ∂/∂u and ∂/∂v at (u, v). Max and Min pass the gradient to the operand that won, the first
    /// on a tie.
    @inline(__always) func partials(_ u: Float, _ v: Float) -> (Float, Float) {
        switch self {
        case .add: return (1, 1)
        case .sub: return (1, -1)
        case .mul: return (v, u)
        case .div: return (1 / v, -u / (v * v))
        case .pow: return (v * powf(u, v - 1), powf(u, v) * logf(u))
        case .max: return u >= v ? (1, 0) : (0, 1)
        case .min: return u <= v ? (1, 0) : (0, 1)
        }
    }

    /// Whether the partials depend on the operands (only Add and Sub pass the gradient on as is).
    var readsOperands: Bool { self != .add && self != .sub }
}

struct BinaryOp: Op {
    let kind: BinaryKind

    var kindName: String { kind.kindName }

    func outputShape(_ check: ShapeCheck) throws -> Shape {
        try check.inputs(2)
        guard let s = Graph.broadcast(check.inputs[0], check.inputs[1]) else {
            throw check.fail("cannot broadcast \(check.inputs[0]) with \(check.inputs[1])")
        }
        return s
    }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        let plan = BroadcastPlan(a: context.inputs[0], b: context.inputs[1], out: context.output)
        let count = context.output.count
        // One specialization of the broadcast loop per kind, chosen once here.
        func build<F: BinaryFunction>(_: F.Type) -> ForwardPlan {
            ForwardPlan { b in
                let x = b.inputs[0], other = b.inputs[1], y = b.output
                return Work.flat(count) { s, e in plan.run(F.self, x, other, y, start: s, end: e) }
            }
        }
        switch kind {
        case .add: return build(AddFunction.self)
        case .sub: return build(SubFunction.self)
        case .mul: return build(MulFunction.self)
        case .div: return build(DivFunction.self)
        case .pow: return build(PowFunction.self)
        case .max: return build(MaxFunction.self)
        case .min: return build(MinFunction.self)
        }
    }

    /// Each input's gradient is the output's times that input's partial derivative, summed over
    /// the dimensions it was broadcast along, in every mode: Add passes it to both inputs, Sub
    /// negates it for the second, Mul scales it by the other input, Div by 1/b and −a/b², Pow by
    /// b·a^(b−1) and a^b·ln a, Max and
    /// Min route it to the operand that won (the first on a tie).
    func backward(_ c: BackwardContext) -> [Work] {
        let count = c.count, kind = kind
        let av = c.inputValues[0], bv = c.inputValues[1]
        let aShape = c.inputShapes[0], bShape = c.inputShapes[1]
        let aConst = c.isConstant[0], bConst = c.isConstant[1]
        let ga = c.gradients[0], gb = c.gradients[1], gy = c.gy
        let setA = c.first[0], setB = c.first[1]
        if !kind.readsOperands && av != bv && aShape.count == count && bShape.count == count {
            // The residual case: the gradient passes unchanged (Sub: negated) to both inputs.
            let negate = kind == .sub
            return [Work.flat(count) { s, e in
                if !aConst { store(ga, s, e, setA) { i in gy[i] } }
                if !bConst {
                    if negate { store(gb, s, e, setB) { i in -gy[i] } } else { store(gb, s, e, setB) { i in gy[i] } }
                }
            }]
        }
        let plan = BroadcastPlan(a: aShape, b: bShape, out: c.outputShape)
        // Only kinds whose partials depend on the operands read them.
        let a = kind.readsOperands ? c.input(0) : gy, b = kind.readsOperands ? c.input(1) : gy
        return [Work.serial {
            // A broadcast operand sums over several outputs: clear it first, then add.
            if setA { ga.update(repeating: 0, count: aShape.count) }
            if setB && !(bv == av) { gb.update(repeating: 0, count: bShape.count) }
            for i in 0..<count {
                let (ia, ib) = plan.sourceIndices(i)
                let (da, db) = kind.partials(a[ia], b[ib])
                let g = gy[i]
                if !aConst { ga[ia] += g * da }
                if !bConst { gb[ib] += g * db }
            }
        }]
    }

    func receptiveField(_ context: FieldContext) -> ReceptiveField { context.widest }
}

// MARK: - The kinds as types, so that the broadcast loop is specialized (and vectorized) per kind

protocol BinaryFunction { static func apply(_ u: Float, _ v: Float) -> Float }
enum AddFunction: BinaryFunction { @inline(__always) static func apply(_ u: Float, _ v: Float) -> Float { u + v } }
enum SubFunction: BinaryFunction { @inline(__always) static func apply(_ u: Float, _ v: Float) -> Float { u - v } }
enum MulFunction: BinaryFunction { @inline(__always) static func apply(_ u: Float, _ v: Float) -> Float { u * v } }
enum DivFunction: BinaryFunction { @inline(__always) static func apply(_ u: Float, _ v: Float) -> Float { u / v } }
enum PowFunction: BinaryFunction { @inline(__always) static func apply(_ u: Float, _ v: Float) -> Float { powf(u, v) } }
enum MaxFunction: BinaryFunction { @inline(__always) static func apply(_ u: Float, _ v: Float) -> Float { u >= v ? u : v } }
enum MinFunction: BinaryFunction { @inline(__always) static func apply(_ u: Float, _ v: Float) -> Float { u <= v ? u : v } }
