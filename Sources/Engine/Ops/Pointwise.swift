/// A unary function applied element by element, with its derivative: the one shape that Elu, Selu,
/// HardSigmoid, HardSwish, Softplus and Erf share (each is a `PointwiseFunction` in its own file).
protocol PointwiseFunction: Sendable {
    /// The ONNX name, for messages and `inspect`.
    var kindName: String { get }
    /// f(x).
    func value(_ x: Float) -> Float
    /// f′(x), given the input x and the output y = f(x).
    func derivative(x: Float, y: Float) -> Float
}

/// Any shape in, the same shape out, f applied to each element.
struct PointwiseOp<F: PointwiseFunction>: Op {
    let function: F

    var kindName: String { function.kindName }

    func outputShape(_ check: ShapeCheck) throws -> Shape { try check.sameShape() }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        let f = function
        return .elementwise(context.output.count) { x, y, n in for i in 0..<n { y[i] = f.value(x[i]) } }
    }

    /// The true local gradient gx = gy · f′(x), in every mode.
    func backward(_ c: BackwardContext) -> [Work] {
        let f = function
        let gx = c.gx, gy = c.gy, x = c.input(0), y = c.output, set = c.set
        return [Work.flat(c.count) { s, e in
            store(gx, s, e, set) { i in gy[i] * f.derivative(x: x[i], y: y[i]) }
        }]
    }
}
