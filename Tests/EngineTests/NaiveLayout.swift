import Engine

/// The layout ops' definitions, written independently of the engine's strided walks: each output
/// element reads one input element, found from its multi-index (Transpose: input axis perm[j]
/// takes output index j; Slice: start + index · step; Tile: index modulo the input's size).
enum NaiveLayout {
    /// For every output element (row-major), the flat index of the input element it reads; nil
    /// for an op that is not a layout op.
    static func sources(_ op: Engine.Operation, input: [Int], output: [Int]) -> [Int]? {
        let inStrides = NaiveProjection.strides(input)
        let count = output.reduce(1, *)
        func multiIndex(_ flat: Int) -> [Int] {
            var r = flat
            var idx = [Int](repeating: 0, count: output.count)
            for a in stride(from: output.count - 1, through: 0, by: -1) { idx[a] = r % output[a]; r /= output[a] }
            return idx
        }
        switch op {
        case .transpose(let perm):
            return (0..<count).map { o in
                let idx = multiIndex(o)
                var src = 0
                for j in 0..<perm.count { src += idx[j] * inStrides[perm[j]] }
                return src
            }
        case .slice(let s):
            return (0..<count).map { o in
                let idx = multiIndex(o)
                return (0..<input.count).reduce(0) { $0 + (s.starts[$1] + idx[$1] * s.steps[$1]) * inStrides[$1] }
            }
        case .tile:
            return (0..<count).map { o in
                let idx = multiIndex(o)
                return (0..<input.count).reduce(0) { $0 + (idx[$1] % input[$1]) * inStrides[$1] }
            }
        default:
            return nil
        }
    }

    static func forward(_ op: Engine.Operation, x: [Double], input: [Int], output: [Int]) -> [Double]? {
        sources(op, input: input, output: output).map { $0.map { x[$0] } }
    }

    /// The gradient reaching the input: each output's gradient added where it was read from.
    static func backward(_ op: Engine.Operation, gy: [Double], input: [Int], output: [Int]) -> [Double]? {
        guard let src = sources(op, input: input, output: output) else { return nil }
        var gx = [Double](repeating: 0, count: input.reduce(1, *))
        for (o, i) in src.enumerated() { gx[i] += gy[o] }
        return gx
    }
}
