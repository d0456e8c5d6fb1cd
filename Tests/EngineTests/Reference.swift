// Naive reference implementations of every operation, written from the ONNX operator definitions
// with plain loops and double-precision accumulation. Nothing here calls the engine.

import Foundation

/// A dense row-major tensor.
struct Tensor: Sendable {
    var shape: [Int]
    var data: [Float]

    init(_ shape: [Int], _ data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) needs \(shape.reduce(1, *)) values, got \(data.count)")
        self.shape = shape
        self.data = data
    }

    init(zeros shape: [Int]) { self.init(shape, [Float](repeating: 0, count: shape.reduce(1, *))) }

    var count: Int { data.count }

    /// Element (n, c, y, x) of a rank-4 tensor.
    subscript(n: Int, c: Int, y: Int, x: Int) -> Float {
        get { data[((n * shape[1] + c) * shape[2] + y) * shape[3] + x] }
        set { data[((n * shape[1] + c) * shape[2] + y) * shape[3] + x] = newValue }
    }
}

/// Row-major strides of `shape`.
func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for i in (0..<shape.count).reversed() { s[i] = acc; acc *= shape[i] }
    return s
}

/// The multi-index of flat position `i` in `shape`.
func multiIndex(_ i: Int, _ shape: [Int]) -> [Int] {
    var rem = i
    var idx = [Int](repeating: 0, count: shape.count)
    for d in (0..<shape.count).reversed() { idx[d] = rem % shape[d]; rem /= shape[d] }
    return idx
}

/// Geometry of a sliding window, as the ONNX attributes give it.
struct WindowSpec: Sendable, CustomStringConvertible {
    var kernel: (h: Int, w: Int)
    var strides: (h: Int, w: Int) = (1, 1)
    var dilations: (h: Int, w: Int) = (1, 1)
    /// top, left, bottom, right (ONNX `pads` order is begins then ends: [top, left, bottom, right]).
    var pads: [Int] = [0, 0, 0, 0]
    var ceilMode = false

    var description: String {
        var s = "k\(kernel.h)x\(kernel.w)"
        if strides != (1, 1) { s += " s\(strides.h),\(strides.w)" }
        if dilations != (1, 1) { s += " d\(dilations.h),\(dilations.w)" }
        if pads != [0, 0, 0, 0] { s += " p\(pads.map(String.init).joined(separator: ","))" }
        if ceilMode { s += " ceil" }
        return s
    }

    /// Output length along one axis: ONNX's formula, floor or ceil, with the rule (PyTorch, Caffe,
    /// the ONNX reference implementation) that in ceil mode the last window must start inside the
    /// input or its begin padding.
    static func outputLength(input: Int, kernel: Int, stride: Int, dilation: Int,
                             padBegin: Int, padEnd: Int, ceil: Bool) -> Int {
        let span = dilation * (kernel - 1) + 1
        let room = input + padBegin + padEnd - span
        var out = (ceil ? Int((Double(room) / Double(stride)).rounded(.up)) : Int((Double(room) / Double(stride)).rounded(.down))) + 1
        if ceil && (out - 1) * stride >= input + padBegin { out -= 1 }
        return out
    }

    func outputSize(h: Int, w: Int) -> (h: Int, w: Int) {
        (WindowSpec.outputLength(input: h, kernel: kernel.h, stride: strides.h, dilation: dilations.h,
                                 padBegin: pads[0], padEnd: pads[2], ceil: ceilMode),
         WindowSpec.outputLength(input: w, kernel: kernel.w, stride: strides.w, dilation: dilations.w,
                                 padBegin: pads[1], padEnd: pads[3], ceil: ceilMode))
    }
}

enum Reference {
    // MARK: - Convolution

    /// ONNX Conv: x NCHW, w [M, C/group, kH, kW], b [M].
    /// y[n, m, oy, ox] = b[m] + Σ_{c, ky, kx} x[n, g·C/group + c, oy·sH − padTop + ky·dH,
    /// ox·sW − padLeft + kx·dW] · w[m, c, ky, kx] with g = m / (M / group); outside the input x is 0.
    static func conv(_ x: Tensor, weight: [Float], bias: [Float]?, outChannels m: Int, group: Int,
                     window: WindowSpec) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (kh, kw) = window.kernel
        let cpg = c / group, mpg = m / group
        precondition(weight.count == m * cpg * kh * kw)
        let (oh, ow) = window.outputSize(h: h, w: w)
        var y = Tensor(zeros: [n, m, oh, ow])
        for b in 0..<n {
            for oc in 0..<m {
                let g = oc / mpg
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var s = Double(bias?[oc] ?? 0)
                        for ic in 0..<cpg {
                            for ky in 0..<kh {
                                let iy = oy * window.strides.h - window.pads[0] + ky * window.dilations.h
                                if iy < 0 || iy >= h { continue }
                                for kx in 0..<kw {
                                    let ix = ox * window.strides.w - window.pads[1] + kx * window.dilations.w
                                    if ix < 0 || ix >= w { continue }
                                    let wv = weight[((oc * cpg + ic) * kh + ky) * kw + kx]
                                    s += Double(wv) * Double(x[b, g * cpg + ic, iy, ix])
                                }
                            }
                        }
                        y[b, oc, oy, ox] = Float(s)
                    }
                }
            }
        }
        return y
    }

    // MARK: - Normalization

    /// ONNX BatchNormalization (inference): y = (x − mean) / sqrt(var + ε) · γ + β along axis 1.
    static func batchNorm(_ x: Tensor, gamma: [Float], beta: [Float], mean: [Float], variance: [Float],
                          epsilon: Float) -> Tensor {
        let c = x.shape[1]
        let inner = x.shape.dropFirst(2).reduce(1, *)
        var y = x
        for i in 0..<x.count {
            let ch = (i / inner) % c
            let v = (Double(x.data[i]) - Double(mean[ch])) / (Double(variance[ch]) + Double(epsilon)).squareRoot()
            y.data[i] = Float(v * Double(gamma[ch]) + Double(beta[ch]))
        }
        return y
    }

    /// ONNX LRN: square_sum[n, c] = Σ x[n, i]² for i from max(0, c − ⌊(size−1)/2⌋) to
    /// min(C−1, c + ⌈(size−1)/2⌉); y = x / (bias + alpha / size · square_sum)^beta.
    static func lrn(_ x: Tensor, size: Int, alpha: Float, beta: Float, bias: Float) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let down = (size - 1) / 2, up = Int((Double(size - 1) / 2).rounded(.up))
        var y = x
        for b in 0..<n {
            for ch in 0..<c {
                for i in 0..<h {
                    for j in 0..<w {
                        var s = 0.0
                        for k in max(0, ch - down)...min(c - 1, ch + up) {
                            let v = Double(x[b, k, i, j]); s += v * v
                        }
                        y[b, ch, i, j] = Float(Double(x[b, ch, i, j]) / pow(Double(bias) + Double(alpha) / Double(size) * s, Double(beta)))
                    }
                }
            }
        }
        return y
    }

    /// ONNX Softmax (opset 13): exp(x) / Σ exp(x) along one axis.
    static func softmax(_ x: Tensor, axis: Int) -> Tensor {
        var y = x
        let strides = rowMajorStrides(x.shape)
        for i in 0..<x.count where multiIndex(i, x.shape)[axis] == 0 {
            let line = (0..<x.shape[axis]).map { i + $0 * strides[axis] }
            let m = line.map { Double(x.data[$0]) }.max()!
            let e = line.map { exp(Double(x.data[$0]) - m) }
            let s = e.reduce(0, +)
            for (k, at) in line.enumerated() { y.data[at] = Float(e[k] / s) }
        }
        return y
    }

    // MARK: - Activations

    static func map(_ x: Tensor, _ f: (Float) -> Float) -> Tensor { Tensor(x.shape, x.data.map(f)) }
    static func relu(_ x: Tensor) -> Tensor { map(x) { $0 > 0 ? $0 : 0 } }
    /// ONNX Clip: min(max(x, lo), hi).
    static func clip(_ x: Tensor, lo: Float, hi: Float) -> Tensor { map(x) { $0 < lo ? lo : ($0 > hi ? hi : $0) } }
    /// ONNX LeakyRelu: x for x ≥ 0, alpha · x otherwise.
    static func leakyRelu(_ x: Tensor, alpha: Float) -> Tensor { map(x) { $0 >= 0 ? $0 : alpha * $0 } }
    static func sigmoid(_ x: Tensor) -> Tensor { map(x) { Float(1 / (1 + exp(-Double($0)))) } }
    /// tanh(x) = (e^x − e^−x) / (e^x + e^−x), in double precision from its definition (saturating
    /// to ±1 where the exponentials overflow).
    static func tanh(_ x: Tensor) -> Tensor {
        map(x) {
            let v = Double($0)
            if abs(v) > 20 { return v > 0 ? 1 : -1 }
            let p = exp(v), m = exp(-v)
            return Float((p - m) / (p + m))
        }
    }

    // MARK: - Pooling

    /// The input positions (y, x) a pooling window covers, padded ones included, in row-major order.
    private static func windowPositions(oy: Int, ox: Int, _ win: WindowSpec) -> [(Int, Int)] {
        var out: [(Int, Int)] = []
        for ky in 0..<win.kernel.h {
            for kx in 0..<win.kernel.w {
                out.append((oy * win.strides.h - win.pads[0] + ky * win.dilations.h,
                            ox * win.strides.w - win.pads[1] + kx * win.dilations.w))
            }
        }
        return out
    }

    /// ONNX MaxPool: the maximum over the window's positions inside the input (padding never wins),
    /// and the flat y·W + x index of the first maximum in row-major order (−1 for an empty window).
    static func maxPool(_ x: Tensor, _ win: WindowSpec) -> (y: Tensor, argmax: [Int32]) {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (oh, ow) = win.outputSize(h: h, w: w)
        var y = Tensor(zeros: [n, c, oh, ow])
        var arg: [Int32] = []
        for b in 0..<n {
            for ch in 0..<c {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var best = -Float.infinity
                        var at: Int32 = -1
                        for (iy, ix) in windowPositions(oy: oy, ox: ox, win) where iy >= 0 && iy < h && ix >= 0 && ix < w {
                            let v = x[b, ch, iy, ix]
                            if at < 0 || v > best { best = v; at = Int32(iy * w + ix) }
                        }
                        y[b, ch, oy, ox] = best
                        arg.append(at)
                    }
                }
            }
        }
        return (y, arg)
    }

    /// ONNX AveragePool: the sum over the window's positions inside the input, divided by the number
    /// of those positions, or with `countIncludePad` by the number of positions inside the padded
    /// input (ceil-mode overhang beyond the end padding never counts).
    static func averagePool(_ x: Tensor, _ win: WindowSpec, countIncludePad: Bool) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (oh, ow) = win.outputSize(h: h, w: w)
        var y = Tensor(zeros: [n, c, oh, ow])
        for b in 0..<n {
            for ch in 0..<c {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var s = 0.0
                        var inside = 0, padded = 0
                        for (iy, ix) in windowPositions(oy: oy, ox: ox, win) {
                            if iy >= -win.pads[0] && iy < h + win.pads[2] && ix >= -win.pads[1] && ix < w + win.pads[3] {
                                padded += 1
                            }
                            if iy >= 0 && iy < h && ix >= 0 && ix < w {
                                inside += 1
                                s += Double(x[b, ch, iy, ix])
                            }
                        }
                        let divisor = countIncludePad ? padded : inside
                        y[b, ch, oy, ox] = Float(s / Double(divisor))
                    }
                }
            }
        }
        return y
    }

    /// ONNX GlobalAveragePool: the mean of each H×W plane.
    static func globalAveragePool(_ x: Tensor) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        var y = Tensor(zeros: [n, c, 1, 1])
        for b in 0..<n {
            for ch in 0..<c {
                var s = 0.0
                for i in 0..<h { for j in 0..<w { s += Double(x[b, ch, i, j]) } }
                y[b, ch, 0, 0] = Float(s / Double(h * w))
            }
        }
        return y
    }

    // MARK: - Elementwise binary with broadcasting

    /// NumPy multidirectional broadcasting: shapes are right-aligned; each dimension pair must be
    /// equal or contain a 1.
    static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let r = max(a.count, b.count)
        let pa = [Int](repeating: 1, count: r - a.count) + a
        let pb = [Int](repeating: 1, count: r - b.count) + b
        var out: [Int] = []
        for i in 0..<r {
            if pa[i] == pb[i] || pb[i] == 1 { out.append(pa[i]) } else if pa[i] == 1 { out.append(pb[i]) } else { return nil }
        }
        return out
    }

    static func binary(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        let shape = broadcastShape(a.shape, b.shape)!
        let r = shape.count
        func element(_ t: Tensor, _ idx: [Int]) -> Float {
            let dims = [Int](repeating: 1, count: r - t.shape.count) + t.shape
            var flat = 0
            for d in 0..<r { flat = flat * dims[d] + (dims[d] == 1 ? 0 : idx[d]) }
            return t.data[flat]
        }
        var y = Tensor(zeros: shape)
        for i in 0..<y.count {
            let idx = multiIndex(i, shape)
            y.data[i] = f(element(a, idx), element(b, idx))
        }
        return y
    }

    // MARK: - Shape operations

    /// ONNX Concat along `axis`.
    static func concat(_ parts: [Tensor], axis: Int) -> Tensor {
        var shape = parts[0].shape
        shape[axis] = parts.map { $0.shape[axis] }.reduce(0, +)
        var y = Tensor(zeros: shape)
        let outStrides = rowMajorStrides(shape)
        var offset = 0
        for p in parts {
            for i in 0..<p.count {
                var idx = multiIndex(i, p.shape)
                idx[axis] += offset
                y.data[zip(idx, outStrides).map(*).reduce(0, +)] = p.data[i]
            }
            offset += p.shape[axis]
        }
        return y
    }

    /// ONNX Gemm with transB = 1: y[i, o] = Σ_k x[i, k] · w[o, k] + b[o].
    static func gemm(_ x: [Float], batch: Int, inFeatures: Int, weight: [Float], bias: [Float]?, outFeatures: Int) -> Tensor {
        var y = Tensor(zeros: [batch, outFeatures])
        for i in 0..<batch {
            for o in 0..<outFeatures {
                var s = Double(bias?[o] ?? 0)
                for k in 0..<inFeatures { s += Double(x[i * inFeatures + k]) * Double(weight[o * inFeatures + k]) }
                y.data[i * outFeatures + o] = Float(s)
            }
        }
        return y
    }

    /// ONNX Pad, mode "constant": pads = begins then ends, per dimension.
    static func pad(_ x: Tensor, begins: [Int], ends: [Int], value: Float) -> Tensor {
        let shape = (0..<x.shape.count).map { x.shape[$0] + begins[$0] + ends[$0] }
        var y = Tensor(shape, [Float](repeating: value, count: shape.reduce(1, *)))
        let outStrides = rowMajorStrides(shape)
        for i in 0..<x.count {
            let idx = multiIndex(i, x.shape)
            var flat = 0
            for d in 0..<idx.count { flat += (idx[d] + begins[d]) * outStrides[d] }
            y.data[flat] = x.data[i]
        }
        return y
    }
}
