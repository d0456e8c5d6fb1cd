import Foundation

/// Elementwise arithmetic, comparisons, casts and reductions of the constant folder. INT64 stays
/// INT64 (division truncates toward zero, as onnxruntime does); an operation on FLOAT, or on FLOAT
/// and INT64 together, is computed in FLOAT.
extension ConstantFolding {
    public enum BinaryOperator: String, Sendable, CaseIterable {
        case add = "Add", sub = "Sub", mul = "Mul", div = "Div", pow = "Pow", max = "Max", min = "Min", mod = "Mod"
        case equal = "Equal", less = "Less", greater = "Greater", lessOrEqual = "LessOrEqual", greaterOrEqual = "GreaterOrEqual"
        case and = "And", or = "Or"

        var isComparison: Bool {
            switch self {
            case .equal, .less, .greater, .lessOrEqual, .greaterOrEqual, .and, .or: return true
            default: return false
            }
        }
    }

    public enum UnaryOperator: String, Sendable, CaseIterable {
        case neg = "Neg", abs = "Abs", sqrt = "Sqrt", reciprocal = "Reciprocal", exp = "Exp", log = "Log"
        case floor = "Floor", ceil = "Ceil", relu = "Relu", sigmoid = "Sigmoid", tanh = "Tanh", not = "Not", sign = "Sign"
    }

    /// A binary operator with NumPy broadcasting.
    public static func binary(_ op: BinaryOperator, _ a: HostTensor, _ b: HostTensor) throws -> HostTensor {
        guard let out = Graph.broadcast(a.shape, b.shape) else {
            throw FoldError("cannot broadcast \(a.shapeDescription) with \(b.shapeDescription)")
        }
        try checkSize(out.dims)
        let x = broadcast(a, to: out.dims), y = broadcast(b, to: out.dims)
        if a.isInteger && b.isInteger {
            let u = x.int64s, v = y.int64s
            var r = [Int64](repeating: 0, count: out.count)
            for i in r.indices {
                switch op {
                case .add: r[i] = u[i] &+ v[i]
                case .sub: r[i] = u[i] &- v[i]
                case .mul: r[i] = u[i] &* v[i]
                case .div, .mod:
                    guard v[i] != 0 else { throw FoldError("it divides the integer \(u[i]) by 0") }
                    // Int64.min / -1 overflows: it wraps, as the C++ runtimes' two's complement does.
                    r[i] = op == .div ? u[i].dividedReportingOverflow(by: v[i]).partialValue
                        : (u[i].remainderReportingOverflow(dividingBy: v[i]).partialValue &+ v[i])
                            .remainderReportingOverflow(dividingBy: v[i]).partialValue
                case .pow:
                    let p = Foundation.pow(Double(u[i]), Double(v[i]))
                    r[i] = p.isNaN ? 0 : (p >= 0x1p63 ? .max : (p <= -0x1p63 ? .min : Int64(p)))
                case .max: r[i] = Swift.max(u[i], v[i])
                case .min: r[i] = Swift.min(u[i], v[i])
                case .equal: r[i] = u[i] == v[i] ? 1 : 0
                case .less: r[i] = u[i] < v[i] ? 1 : 0
                case .greater: r[i] = u[i] > v[i] ? 1 : 0
                case .lessOrEqual: r[i] = u[i] <= v[i] ? 1 : 0
                case .greaterOrEqual: r[i] = u[i] >= v[i] ? 1 : 0
                case .and: r[i] = u[i] != 0 && v[i] != 0 ? 1 : 0
                case .or: r[i] = u[i] != 0 || v[i] != 0 ? 1 : 0
                }
            }
            return HostTensor(dims: out.dims, int64s: r)
        }
        let u = x.floats, v = y.floats
        if op.isComparison {
            var r = [Int64](repeating: 0, count: out.count)
            for i in r.indices {
                let t: Bool
                switch op {
                case .equal: t = u[i] == v[i]
                case .less: t = u[i] < v[i]
                case .greater: t = u[i] > v[i]
                case .lessOrEqual: t = u[i] <= v[i]
                case .greaterOrEqual: t = u[i] >= v[i]
                case .and: t = u[i] != 0 && v[i] != 0
                default: t = u[i] != 0 || v[i] != 0
                }
                r[i] = t ? 1 : 0
            }
            return HostTensor(dims: out.dims, int64s: r)
        }
        var r = [Float](repeating: 0, count: out.count)
        for i in r.indices {
            switch op {
            case .add: r[i] = u[i] + v[i]
            case .sub: r[i] = u[i] - v[i]
            case .mul: r[i] = u[i] * v[i]
            case .div: r[i] = u[i] / v[i]
            case .mod: r[i] = fmodf(u[i], v[i])
            case .pow: r[i] = powf(u[i], v[i])
            case .max: r[i] = Swift.max(u[i], v[i])
            case .min: r[i] = Swift.min(u[i], v[i])
            default: break
            }
        }
        return HostTensor(dims: out.dims, floats: r)
    }

    /// Sum, Mean, Max, Min of any number of inputs (broadcasting).
    public static func variadic(_ op: BinaryOperator, _ inputs: [HostTensor], mean: Bool = false) throws -> HostTensor {
        guard var acc = inputs.first else { throw FoldError("it has no inputs") }
        for t in inputs.dropFirst() { acc = try binary(op, acc, t) }
        if mean { acc = try binary(.div, acc, HostTensor(dims: [], floats: [Float(inputs.count)])) }
        return acc
    }

    public static func unary(_ op: UnaryOperator, _ t: HostTensor) -> HostTensor {
        if t.isInteger, [.neg, .abs, .relu, .not, .sign, .floor, .ceil].contains(op) {
            let v = t.int64s
            return HostTensor(dims: t.dims, int64s: v.map { x in
                switch op {
                case .neg: return 0 &- x
                case .abs: return x < 0 ? 0 &- x : x
                case .relu: return Swift.max(x, 0)
                case .not: return x == 0 ? 1 : 0
                case .sign: return x > 0 ? 1 : (x < 0 ? -1 : 0)
                default: return x
                }
            })
        }
        let v = t.floats
        return HostTensor(dims: t.dims, floats: v.map { x in
            switch op {
            case .neg: return -x
            case .abs: return Swift.abs(x)
            case .sqrt: return x.squareRoot()
            case .reciprocal: return 1 / x
            case .exp: return expf(x)
            case .log: return logf(x)
            case .floor: return x.rounded(.down)
            case .ceil: return x.rounded(.up)
            case .relu: return Swift.max(x, 0)
            case .sigmoid: return 1 / (1 + expf(-x))
            case .tanh: return tanhf(x)
            case .not: return x == 0 ? 1 : 0
            case .sign: return x > 0 ? 1 : (x < 0 ? -1 : 0)
            }
        })
    }

    /// Cast to FLOAT (`toInteger` false) or to an integer or boolean type (INT64 storage;
    /// `boolean` maps every non-zero value to 1).
    public static func cast(_ t: HostTensor, toInteger: Bool, boolean: Bool = false) -> HostTensor {
        if boolean { return HostTensor(dims: t.dims, int64s: t.floats.map { $0 != 0 ? 1 : 0 }) }
        return toInteger ? HostTensor(dims: t.dims, int64s: t.int64s) : HostTensor(dims: t.dims, floats: t.floats)
    }

    /// Where(condition, x, y) with broadcasting.
    public static func `where`(_ condition: HostTensor, _ x: HostTensor, _ y: HostTensor) throws -> HostTensor {
        guard let xy = Graph.broadcast(x.shape, y.shape), let out = Graph.broadcast(condition.shape, xy) else {
            throw FoldError("cannot broadcast \(condition.shapeDescription), \(x.shapeDescription) and \(y.shapeDescription)")
        }
        try checkSize(out.dims)
        let c = broadcast(condition, to: out.dims).int64s
        if x.isInteger && y.isInteger {
            let u = broadcast(x, to: out.dims).int64s, v = broadcast(y, to: out.dims).int64s
            return HostTensor(dims: out.dims, int64s: c.indices.map { c[$0] != 0 ? u[$0] : v[$0] })
        }
        let u = broadcast(x, to: out.dims).floats, v = broadcast(y, to: out.dims).floats
        return HostTensor(dims: out.dims, floats: c.indices.map { c[$0] != 0 ? u[$0] : v[$0] })
    }

    public enum Reduction: String, Sendable, CaseIterable {
        case sum = "ReduceSum", prod = "ReduceProd", mean = "ReduceMean", max = "ReduceMax", min = "ReduceMin"
    }

    /// A reduction over `axes` (every axis when nil), keeping them as 1s when `keepDims`.
    public static func reduce(_ r: Reduction, _ t: HostTensor, axes: [Int]?, keepDims: Bool) throws -> HostTensor {
        let rank = t.dims.count
        let reduced = Set(try (axes ?? Array(0..<rank)).map { try axis($0, rank: max(rank, 1), "axes") })
        let outDims = (0..<rank).map { reduced.contains($0) ? 1 : t.dims[$0] }
        let strides = t.shape.strides
        let outStrides = Shape(outDims).strides
        let n = t.count, outCount = outDims.reduce(1, *)
        func target(_ i: Int) -> Int {
            var o = 0
            for a in 0..<rank where !reduced.contains(a) { o += (i / strides[a]) % t.dims[a] * outStrides[a] }
            return o
        }
        let finalDims = keepDims ? outDims : (0..<rank).filter { !reduced.contains($0) }.map { t.dims[$0] }
        let perOutput = outCount > 0 ? n / outCount : 0
        if t.isInteger && r != .mean {
            let v = t.int64s
            var acc = [Int64](repeating: r == .prod ? 1 : (r == .max ? .min : (r == .min ? .max : 0)), count: outCount)
            for i in 0..<n {
                let o = target(i)
                switch r {
                case .sum: acc[o] &+= v[i]
                case .prod: acc[o] &*= v[i]
                case .max: acc[o] = Swift.max(acc[o], v[i])
                default: acc[o] = Swift.min(acc[o], v[i])
                }
            }
            return HostTensor(dims: finalDims, int64s: acc)
        }
        let v = t.floats
        var acc = [Float](repeating: r == .prod ? 1 : (r == .max ? -.infinity : (r == .min ? .infinity : 0)), count: outCount)
        for i in 0..<n {
            let o = target(i)
            switch r {
            case .sum, .mean: acc[o] += v[i]
            case .prod: acc[o] *= v[i]
            case .max: acc[o] = Swift.max(acc[o], v[i])
            case .min: acc[o] = Swift.min(acc[o], v[i])
            }
        }
        if r == .mean, perOutput > 0 { for o in acc.indices { acc[o] /= Float(perOutput) } }
        return HostTensor(dims: finalDims, floats: acc)
    }
}
