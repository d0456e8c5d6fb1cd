// The naive forward and backward passes of the numeric ops (the binary family, the pointwise ops,
// PRelu, LogSoftmax, the reductions and the normalizations), in double precision with plain loops,
// written from the ONNX operator definitions and the projection contract. `NaiveProjection` asks
// these for every op its own switch does not list. Nothing here calls the engine.

import Engine
import Foundation

extension NaiveProjection {
    /// What an op computes from a double-precision operand pair, and its partials (the first
    /// operand wins a tie of Max and Min).
    static func binaryParts(_ op: Engine.Operation) -> (f: (Double, Double) -> Double,
                                                        d: (Double, Double) -> (Double, Double))? {
        switch op {
        case .sub: return ({ $0 - $1 }, { _, _ in (1, -1) })
        case .div: return ({ $0 / $1 }, { u, v in (1 / v, -u / (v * v)) })
        case .pow: return ({ Foundation.pow($0, $1) }, { u, v in (v * Foundation.pow(u, v - 1), Foundation.pow(u, v) * log(u)) })
        case .maximum: return ({ $0 >= $1 ? $0 : $1 }, { u, v in u >= v ? (1, 0) : (0, 1) })
        case .minimum: return ({ $0 <= $1 ? $0 : $1 }, { u, v in u <= v ? (1, 0) : (0, 1) })
        default: return nil
        }
    }

    /// f, f′ and the piece of x (for the finite-difference tests' kink detection) of a pointwise op.
    static func pointwiseParts(_ op: Engine.Operation) -> (f: (Double) -> Double, d: (Double) -> Double, piece: (Double) -> Int)? {
        switch op {
        case .elu(let a):
            let a = Double(a)
            return ({ $0 > 0 ? $0 : a * (exp($0) - 1) }, { $0 > 0 ? 1 : a * exp($0) }, { $0 > 0 ? 1 : 0 })
        case .selu(let a, let g):
            let a = Double(a), g = Double(g)
            return ({ $0 > 0 ? g * $0 : g * a * (exp($0) - 1) }, { $0 > 0 ? g : g * a * exp($0) }, { $0 > 0 ? 1 : 0 })
        case .hardSigmoid(let a, let b):
            let a = Double(a), b = Double(b)
            return ({ min(1, max(0, a * $0 + b)) }, { let t = a * $0 + b; return t > 0 && t < 1 ? a : 0 },
                    { let t = a * $0 + b; return t <= 0 ? 0 : (t >= 1 ? 2 : 1) })
        case .hardSwish:
            return ({ $0 * min(1, max(0, $0 / 6 + 0.5)) }, { $0 <= -3 ? 0 : ($0 >= 3 ? 1 : (2 * $0 + 3) / 6) },
                    { $0 <= -3 ? 0 : ($0 >= 3 ? 2 : 1) })
        case .softplus:
            return ({ log(1 + exp($0)) }, { 1 / (1 + exp(-$0)) }, { _ in 0 })
        case .gelu(false):
            return ({ 0.5 * $0 * (1 + Foundation.erf($0 / 2.0.squareRoot())) },
                    { 0.5 * (1 + Foundation.erf($0 / 2.0.squareRoot())) + $0 * exp(-0.5 * $0 * $0) / (2 * Double.pi).squareRoot() }, { _ in 0 })
        case .gelu(true):
            let k = (2 / Double.pi).squareRoot()
            return ({ 0.5 * $0 * (1 + Foundation.tanh(k * ($0 + 0.044715 * $0 * $0 * $0))) },
                    { x in let t = Foundation.tanh(k * (x + 0.044715 * x * x * x))
                      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x) }, { _ in 0 })
        case .sqrt:
            return ({ $0.squareRoot() }, { 0.5 / $0.squareRoot() }, { _ in 0 })
        case .erf:
            return ({ Foundation.erf($0) }, { 2 / Double.pi.squareRoot() * exp(-$0 * $0) }, { _ in 0 })
        default: return nil
        }
    }

    /// What a reduction op reduces and how (GlobalMaxPool: the maximum over the plane).
    static func reduction(_ op: Engine.Operation) -> (ReduceKind, [Int]) {
        if case .reduce(let k, let a, _) = op { return (k, a) }
        return (.max, [2, 3])
    }

    /// [outer, length, inner] of a reduction's input, the reduced axes being adjacent once those of
    /// size 1 are set aside (as the op requires).
    static func reduceExtents(_ s: [Int], _ axes: [Int]) -> (Int, Int, Int) {
        let wide = axes.filter { s[$0] > 1 }
        guard let lo = wide.first, let hi = wide.last else { return (s.reduce(1, *), 1, 1) }
        return (s[..<lo].reduce(1, *), s[lo...hi].reduce(1, *), s[(hi + 1)...].reduce(1, *))
    }

    /// The normalization groups of InstanceNormalization and LayerNormalization: group size, and
    /// the scale and shift of element i of group p.
    static func normParts(_ op: Engine.Operation, _ xShape: [Int]) -> (n: Int, eps: Double, scale: (Int, Int) -> Double, shift: (Int, Int) -> Double)? {
        switch op {
        case .instanceNorm(let scale, let bias, let eps):
            let n = xShape[2...].reduce(1, *), c = xShape[1]
            return (n, Double(eps), { p, _ in Double(scale[p % c]) }, { p, _ in Double(bias[p % c]) })
        case .layerNorm(let axis, let scale, let bias, let eps):
            return (xShape[axis...].reduce(1, *), Double(eps), { _, i in Double(scale[i]) }, { _, i in Double(bias[i]) })
        default: return nil
        }
    }

    /// Resize from the ONNX definition: each output's input coordinate along each axis (the
    /// coordinate transformation), then the nearest input (by the rounding mode, clamped) or the two
    /// neighbours (clamped) with linear weights; `body(inputIndex, outputIndex, weight)`.
    static func forEachResizeTap(_ r: Resize, _ xShape: [Int], _ body: (Int, Int, Double) -> Void) {
        let (planes, h, w) = (xShape[0] * xShape[1], xShape[2], xShape[3])
        func axis(_ n: Int, _ out: Int, _ scale: Double) -> [[(Int, Double)]] {
            (0..<out).map { o in
                let x = Double(o)
                var s: Double
                switch r.coordinates {
                case .halfPixel: s = (x + 0.5) / scale - 0.5
                case .pytorchHalfPixel: s = out > 1 ? (x + 0.5) / scale - 0.5 : 0
                case .alignCorners: s = out == 1 ? 0 : x * Double(n - 1) / Double(out - 1)
                case .asymmetric: s = x / scale
                case .tfHalfPixelForNN: s = (x + 0.5) / scale
                }
                if r.mode == .nearest {
                    let frac = s - floor(s)
                    let i: Double
                    switch r.rounding {
                    case .roundPreferFloor: i = frac == 0.5 ? floor(s) : (frac < 0.5 ? floor(s) : ceil(s))
                    case .roundPreferCeil: i = frac == 0.5 ? ceil(s) : (frac < 0.5 ? floor(s) : ceil(s))
                    case .floor: i = floor(s)
                    case .ceil: i = ceil(s)
                    }
                    return [(min(max(Int(i), 0), n - 1), 1)]
                }
                s = min(max(s, 0), Double(n - 1))
                let i0 = Int(floor(s)), i1 = min(i0 + 1, n - 1), f = s - Double(i0)
                return [(i0, 1 - f), (i1, f)]
            }
        }
        let rows = axis(h, r.outH, r.scaleH), cols = axis(w, r.outW, r.scaleW)
        for p in 0..<planes {
            for (oy, ry) in rows.enumerated() {
                for (ox, rx) in cols.enumerated() {
                    for (iy, wy) in ry { for (ix, wx) in rx { body((p * h + iy) * w + ix, (p * r.outH + oy) * r.outW + ox, wy * wx) } }
                }
            }
        }
    }

    /// Every product of ONNX ConvTranspose: y[b, g·M/G + m, iy·s − pad + ky·d, ix·s − pad + kx·d]
    /// += x[b, c, iy, ix] · w[c, m, ky, kx] for c in group g, where that lands inside the output.
    static func forEachTransposedProduct(_ c: Convolution, _ xShape: [Int], _ out: [Int], _ body: (Int, Int, Int) -> Void) {
        let (n, cin, h, w) = (xShape[0], xShape[1], xShape[2], xShape[3])
        let (cout, oh, ow) = (out[1], out[2], out[3])
        let win = c.window, mpg = cout / c.groups, cpg = cin / c.groups
        for b in 0..<n {
            for ic in 0..<cin {
                let g = ic / cpg
                for m in 0..<mpg {
                    for iy in 0..<h {
                        for ix in 0..<w {
                            for ky in 0..<win.kernelH {
                                let oy = iy * win.strideH - win.padTop + ky * win.dilationH
                                guard oy >= 0 && oy < oh else { continue }
                                for kx in 0..<win.kernelW {
                                    let ox = ix * win.strideW - win.padLeft + kx * win.dilationW
                                    guard ox >= 0 && ox < ow else { continue }
                                    body(((b * cin + ic) * h + iy) * w + ix, ((ic * mpg + m) * win.kernelH + ky) * win.kernelW + kx,
                                         ((b * cout + g * mpg + m) * oh + oy) * ow + ox)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// For reflect and edge padding: the input flat index each output element copies.
    static func padSources(_ xShape: [Int], _ output: [Int], begins: [Int], reflect: Bool) -> [Int] {
        let inStrides = strides(xShape)
        return (0..<output.reduce(1, *)).map { o in
            let idx = multiIndex(o, output)
            var src = 0
            for d in 0..<xShape.count {
                let n = xShape[d]
                var i = idx[d] - begins[d]
                if reflect {
                    if i < 0 { i = -i }
                    if i >= n { i = 2 * (n - 1) - i }
                } else {
                    i = min(max(i, 0), n - 1)
                }
                src += i * inStrides[d]
            }
            return src
        }
    }

    /// The forward value of a numeric op, appending its piecewise decisions.
    static func numericForward(_ op: Engine.Operation, inputs: [[Double]], shapes: [[Int]], output: [Int],
                               decisions: inout [Int]) -> [Double] {
        if let y = NaiveLayout.forward(op, x: inputs[0], input: shapes[0], output: output) { return y }
        let x = inputs[0], xShape = shapes[0]
        var y = [Double](repeating: 0, count: output.reduce(1, *))
        if let (f, _) = binaryParts(op) {
            let sa = mapIndices(output, strides: broadcastStrides(shapes[0], output))
            let sb = mapIndices(output, strides: broadcastStrides(shapes[1], output))
            for i in 0..<y.count {
                let u = inputs[0][sa[i]], v = inputs[1][sb[i]]
                y[i] = f(u, v)
                if case .maximum = op { decisions.append(u >= v ? 1 : 0) }
                if case .minimum = op { decisions.append(u <= v ? 1 : 0) }
            }
            return y
        }
        if let (f, _, piece) = pointwiseParts(op) {
            for i in 0..<x.count { y[i] = f(x[i]); decisions.append(piece(x[i])) }
            return y
        }
        if let (n, eps, scale, shift) = normParts(op, xShape) {
            for p in 0..<(x.count / n) {
                let g = Array(x[(p * n)..<(p * n + n)])
                let mean = g.reduce(0, +) / Double(n)
                let r = 1 / (g.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n) + eps).squareRoot()
                for i in 0..<n { y[p * n + i] = (g[i] - mean) * r * scale(p, i) + shift(p, i) }
            }
            return y
        }
        switch op {
        case .resize(let r):
            forEachResizeTap(r, xShape) { xi, yi, weight in y[yi] += weight * x[xi] }
        case .convTranspose(let c, _):
            for i in 0..<y.count { y[i] = Double(c.bias[(i / (output[2] * output[3])) % output[1]]) }
            forEachTransposedProduct(c, xShape, output) { xi, wi, yi in y[yi] += x[xi] * Double(c.weight[wi]) }
        case .padEdges(let begins, _, let reflect):
            let src = padSources(xShape, output, begins: begins, reflect: reflect)
            for o in 0..<y.count { y[o] = x[src[o]] }
        case .prelu(let slope):
            let inner = slope.count == 1 ? x.count : xShape[2...].reduce(1, *)
            for i in 0..<x.count {
                let a = Double(slope[(i / inner) % slope.count])
                y[i] = x[i] > 0 ? x[i] : a * x[i]
                decisions.append(x[i] > 0 ? 1 : 0)
            }
        case .logSoftmax(let axis):
            for line in softmaxLines(xShape, axis: axis) {
                let m = line.map { x[$0] }.max()!
                let lse = m + log(line.reduce(0.0) { $0 + exp(x[$1] - m) })
                for j in line { y[j] = x[j] - lse }
            }
        case .reduce, .globalMaxPool:
            let (kind, axes) = reduction(op)
            let (outer, length, inner) = reduceExtents(xShape, axes)
            for o in 0..<outer {
                for i in 0..<inner {
                    let line = (0..<length).map { x[(o * length + $0) * inner + i] }
                    switch kind {
                    case .sum: y[o * inner + i] = line.reduce(0, +)
                    case .mean: y[o * inner + i] = line.reduce(0, +) / Double(length)
                    case .max:
                        let k = line.indices.max { line[$0] < line[$1] || (line[$0] == line[$1] && $0 > $1) }!
                        y[o * inner + i] = line[k]
                        decisions.append(k)
                    }
                }
            }
        default:
            preconditionFailure("the naive passes do not know \(op.kindName)")
        }
        return y
    }

    /// Each input's gradient through a numeric op, from the output's, in mode `mode`.
    static func numericBackward(_ op: Engine.Operation, inputs: [(value: Int, shape: [Int], data: [Float])],
                                output: [Int], gy: [Double], mode: ProjectionMode) -> [[Double]] {
        if let gx = NaiveLayout.backward(op, gy: gy, input: inputs[0].shape, output: output) { return [gx] }
        let xShape = inputs[0].shape
        let x = inputs[0].data.map(Double.init)
        var gx = [Double](repeating: 0, count: x.count)
        if let (_, d) = binaryParts(op) {
            let a = inputs[0], b = inputs[1]
            let av = a.data.map(Double.init), bv = b.data.map(Double.init)
            var ga = [Double](repeating: 0, count: av.count), gb = [Double](repeating: 0, count: bv.count)
            let sa = mapIndices(output, strides: broadcastStrides(a.shape, output))
            let sb = mapIndices(output, strides: broadcastStrides(b.shape, output))
            for i in 0..<gy.count {
                let (da, db) = d(av[sa[i]], bv[sb[i]])
                ga[sa[i]] += gy[i] * da
                gb[sb[i]] += gy[i] * db
            }
            return [ga, gb]
        }
        if let (_, d, _) = pointwiseParts(op) {
            for i in 0..<x.count { gx[i] = gy[i] * d(x[i]) }
            return [gx]
        }
        if let (n, eps, scale, _) = normParts(op, xShape) {
            for p in 0..<(x.count / n) {
                let g = Array(x[(p * n)..<(p * n + n)])
                let mean = g.reduce(0, +) / Double(n)
                let r = 1 / (g.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n) + eps).squareRoot()
                let xh = g.map { ($0 - mean) * r }
                let h = (0..<n).map { gy[p * n + $0] * scale(p, $0) }
                let mh = h.reduce(0, +) / Double(n)
                let mhx = zip(h, xh).reduce(0.0) { $0 + $1.0 * $1.1 } / Double(n)
                for i in 0..<n { gx[p * n + i] = r * (h[i] - mh - xh[i] * mhx) }
            }
            return [gx]
        }
        switch op {
        case .resize(let r):
            forEachResizeTap(r, xShape) { xi, yi, weight in gx[xi] += weight * gy[yi] }
        case .convTranspose(let c, _):
            forEachTransposedProduct(c, xShape, output) { xi, wi, yi in gx[xi] += gy[yi] * Double(c.weight[wi]) }
        case .padEdges(let begins, _, let reflect):
            let src = padSources(xShape, output, begins: begins, reflect: reflect)
            for o in 0..<gy.count { gx[src[o]] += gy[o] }
        case .prelu(let slope):
            // LeakyRelu's rule with the channel's slope.
            let inner = slope.count == 1 ? x.count : xShape[2...].reduce(1, *)
            for i in 0..<x.count {
                let a = Double(slope[(i / inner) % slope.count]), g = gy[i]
                switch mode {
                case .gradient: gx[i] = x[i] > 0 ? g : a * g
                case .deconv: gx[i] = g > 0 ? g : a * g
                case .guided: gx[i] = g > 0 ? (x[i] > 0 ? g : a * g) : 0
                }
            }
        case .logSoftmax(let axis):
            for line in softmaxLines(xShape, axis: axis) {
                let m = line.map { x[$0] }.max()!
                let total = line.reduce(0.0) { $0 + exp(x[$1] - m) }
                let sum = line.reduce(0.0) { $0 + gy[$1] }
                for j in line { gx[j] = gy[j] - exp(x[j] - m) / total * sum }
            }
        case .reduce, .globalMaxPool:
            let (kind, axes) = reduction(op)
            let (outer, length, inner) = reduceExtents(xShape, axes)
            for o in 0..<outer {
                for i in 0..<inner {
                    let g = gy[o * inner + i]
                    let at = { (k: Int) in (o * length + k) * inner + i }
                    switch kind {
                    case .sum: for k in 0..<length { gx[at(k)] = g }
                    case .mean: for k in 0..<length { gx[at(k)] = g / Double(length) }
                    case .max:
                        var best = 0
                        for k in 1..<max(length, 1) where x[at(k)] > x[at(best)] { best = k }
                        gx[at(best)] = g
                    }
                }
            }
        default:
            preconditionFailure("the naive passes do not know \(op.kindName)")
        }
        return [gx]
    }
}
