// A naive backward pass for the three projection modes, written with plain loops in double
// precision from the rules of the projections issue, op by op. It reads only the graph's
// description and the forward values of one pass; nothing here calls the engine's backward code.
// Max-pool switches are found again here from the pooled input, not read from the engine.

import Engine
import Foundation

enum NaiveProjection {
    /// The projection of unit (`target`, `channel`) onto the graph input, in double precision.
    ///
    /// - Parameters:
    ///   - values: the contents of every value after a forward pass, by value index.
    ///   - position: (y, x) for a one-hot seed; nil for the channel's activation map as seed.
    static func project(graph: Graph, values: [[Float]], target: Int, channel: Int,
                        at position: (y: Int, x: Int)?, mode: ProjectionMode) -> [Double] {
        var grads = graph.values.map { [Double](repeating: 0, count: $0.shape.count) }
        // The seed, batch item 0.
        let shape = graph.values[target].shape
        let act = values[target]
        if shape.rank == 2 {
            grads[target][channel] = position == nil ? Double(act[channel]) : 1
        } else {
            let (h, w) = (shape[2], shape[3])
            if let p = position {
                grads[target][(channel * h + p.y) * w + p.x] = 1
            } else {
                for i in 0..<(h * w) { grads[target][channel * h * w + i] = Double(act[channel * h * w + i]) }
            }
        }
        // The nodes the target depends on.
        var below = Set<Int>()
        var stack = [target]
        while let v = stack.popLast() {
            guard let p = graph.values[v].producer, below.insert(p).inserted else { continue }
            stack.append(contentsOf: graph.nodes[p].inputs)
        }
        // Nodes are in execution order, so the reverse order processes every consumer of a value
        // before its producer: each value's gradient is complete when it is read.
        for ni in below.sorted(by: >) {
            let node = graph.nodes[ni]
            let gy = grads[node.output]
            let inputs = node.inputs.map { i in (value: i, shape: graph.values[i].shape.dims, data: values[i]) }
            let contributions = backward(node.op, inputs: inputs, output: graph.values[node.output].shape.dims,
                                         gy: gy, mode: mode)
            for (k, i) in node.inputs.enumerated() where graph.values[i].constant == nil {
                for j in 0..<contributions[k].count { grads[i][j] += contributions[k][j] }
            }
        }
        return grads[graph.input]
    }

    /// One op's backward: the gradient reaching each input from the output gradient `gy`.
    static func backward(_ op: Engine.Operation, inputs: [(value: Int, shape: [Int], data: [Float])], output: [Int],
                         gy: [Double], mode: ProjectionMode) -> [[Double]] {
        let xShape = inputs[0].shape
        let x = inputs[0].data.map(Double.init)
        var gx = [Double](repeating: 0, count: x.count)
        switch op {
        case .conv(let c):
            gx = convolveTransposed(c, gy, xShape, output)

        case .batchNorm(let scale, _):
            let inner = xShape.dropFirst(2).reduce(1, *), channels = xShape[1]
            for i in 0..<x.count { gx[i] = gy[i] * Double(scale[(i / inner) % channels]) }

        case .relu:
            for i in 0..<x.count {
                let g = gy[i]
                switch mode {
                case .gradient: gx[i] = x[i] > 0 ? g : 0
                case .deconv: gx[i] = max(g, 0)
                case .guided: gx[i] = x[i] > 0 && g > 0 ? g : 0
                }
            }

        case .clip(let lo, let hi):
            let (l, u) = (Double(lo), Double(hi))
            for i in 0..<x.count {
                let g = gy[i]
                let inside = l < x[i] && x[i] < u
                switch mode {
                case .gradient: gx[i] = inside ? g : 0
                case .deconv: gx[i] = lo == 0 ? max(g, 0) : (inside ? g : 0)
                case .guided: gx[i] = inside && g > 0 ? g : 0
                }
            }

        case .leakyRelu(let alpha):
            let a = Double(alpha)
            for i in 0..<x.count {
                let g = gy[i]
                switch mode {
                case .gradient: gx[i] = x[i] > 0 ? g : a * g
                case .deconv: gx[i] = g > 0 ? g : a * g      // the LeakyRelu function applied to g
                case .guided: gx[i] = g > 0 ? (x[i] > 0 ? g : a * g) : 0
                }
            }

        case .sigmoid:
            for i in 0..<x.count {
                let s = 1 / (1 + exp(-x[i]))
                gx[i] = gy[i] * s * (1 - s)
            }

        case .tanh:
            for i in 0..<x.count {
                let t = Foundation.tanh(x[i])
                gx[i] = gy[i] * (1 - t * t)
            }

        case .identity, .reshape:
            gx = gy

        case .maxPool(let win):
            forEachWindow(xShape, output, win) { plane, o, taps in
                // The first maximum in row-major order among the taps inside the input.
                var best = -Double.infinity, at = -1
                for t in taps where t.inside {
                    if at < 0 || x[plane + t.index] > best { best = x[plane + t.index]; at = t.index }
                }
                if at >= 0 { gx[plane + at] += gy[o] }
            }

        case .averagePool(let win, let includePad):
            let (h, w) = (xShape[2], xShape[3])
            forEachWindow(xShape, output, win) { plane, o, taps in
                let inside = taps.filter(\.inside)
                let padded = taps.filter { t in
                    t.y >= -win.padTop && t.y < h + win.padBottom && t.x >= -win.padLeft && t.x < w + win.padRight
                }
                let divisor = includePad ? padded.count : inside.count
                guard divisor > 0 else { return }
                for t in inside { gx[plane + t.index] += gy[o] / Double(divisor) }
            }

        case .globalAveragePool:
            let size = xShape[2] * xShape[3]
            for i in 0..<x.count { gx[i] = gy[i / size] / Double(size) }

        case .lrn(let p):
            // y_c = x_c · D_c^−β, D_c = bias + α/size · Σ_{j ∈ W(c)} x_j², W(c) = [c − ⌊(size−1)/2⌋,
            // c + ⌈(size−1)/2⌉] ∩ channels. ∂y_c/∂x_j = [c = j]·D_c^−β − 2αβ/size · x_c x_j D_c^(−β−1)
            // for j ∈ W(c).
            let (n, ch, plane) = (xShape[0], xShape[1], xShape[2] * xShape[3])
            let down = (p.size - 1) / 2, up = p.size - 1 - down
            let (alpha, beta, bias) = (Double(p.alpha), Double(p.beta), Double(p.bias))
            let k = alpha / Double(p.size)
            for b in 0..<n {
                for i in 0..<plane {
                    func at(_ c: Int) -> Int { (b * ch + c) * plane + i }
                    for c in 0..<ch {
                        let window = max(0, c - down)...min(ch - 1, c + up)
                        let d = bias + k * window.reduce(0.0) { $0 + x[at($1)] * x[at($1)] }
                        let g = gy[at(c)]
                        gx[at(c)] += g * pow(d, -beta)
                        for j in window { gx[at(j)] -= g * 2 * k * beta * x[at(c)] * x[at(j)] * pow(d, -beta - 1) }
                    }
                }
            }

        case .add, .mul:
            let multiply: Bool = { if case .mul = op { return true }; return false }()
            let a = inputs[0], b = inputs[1]
            let av = a.data.map(Double.init), bv = b.data.map(Double.init)
            var ga = [Double](repeating: 0, count: av.count), gb = [Double](repeating: 0, count: bv.count)
            let sa = mapIndices(output, strides: broadcastStrides(a.shape, output))
            let sb = mapIndices(output, strides: broadcastStrides(b.shape, output))
            for i in 0..<gy.count {
                let ia = sa[i], ib = sb[i]
                ga[ia] += multiply ? gy[i] * bv[ib] : gy[i]
                gb[ib] += multiply ? gy[i] * av[ia] : gy[i]
            }
            return [ga, gb]

        case .concat(let axis):
            var result: [[Double]] = []
            var offset = 0
            for input in inputs {
                var offsets = [Int](repeating: 0, count: output.count)
                offsets[axis] = offset
                let at = mapIndices(input.shape, strides: strides(output), offsets: offsets)
                let g = at.map { gy[$0] }
                result.append(g)
                offset += input.shape[axis]
            }
            return result

        case .dense(let d):
            let batch = x.count / d.inFeatures
            for b in 0..<batch {
                for k in 0..<d.inFeatures {
                    var s = 0.0
                    for o in 0..<d.outFeatures { s += Double(d.weight[o * d.inFeatures + k]) * gy[b * d.outFeatures + o] }
                    gx[b * d.inFeatures + k] = s
                }
            }

        case .softmax(let axis):
            for line in softmaxLines(xShape, axis: axis) {
                let m = line.map { x[$0] }.max()!
                let e = line.map { exp(x[$0] - m) }
                let total = e.reduce(0, +)
                let y = e.map { $0 / total }
                let dot = zip(line, y).reduce(0.0) { $0 + gy[$1.0] * $1.1 }
                for (k, j) in line.enumerated() { gx[j] = y[k] * (gy[j] - dot) }
            }

        case .pad(let begins, _, _):
            let at = mapIndices(xShape, strides: strides(output), offsets: begins)
            for i in 0..<x.count { gx[i] = gy[at[i]] }
        default: return numericBackward(op, inputs: inputs, output: output, gy: gy, mode: mode)
        }
        return [gx]
    }

    // MARK: - Forward in double precision

    /// A forward pass of the part of `graph` below `targets` in double precision, for finite
    /// differences: every value's contents by index (empty for values not computed), and every
    /// piecewise decision taken (rectifier input signs and ranges, max-pool switches), so a caller
    /// can tell whether two inputs lie on the same smooth piece.
    static func forward(graph: Graph, input: [Double], targets: [Int]) -> (values: [[Double]], decisions: [Int]) {
        var below = Set<Int>()
        var stack = targets
        while let v = stack.popLast() {
            guard let p = graph.values[v].producer, below.insert(p).inserted else { continue }
            stack.append(contentsOf: graph.nodes[p].inputs)
        }
        var values: [[Double]] = graph.values.map { $0.constant?.map(Double.init) ?? [] }
        values[graph.input] = input
        var decisions: [Int] = []
        for ni in below.sorted() {
            let node = graph.nodes[ni]
            let shapes = node.inputs.map { graph.values[$0].shape.dims }
            let out = graph.values[node.output].shape.dims
            let x = values[node.inputs[0]], xShape = shapes[0]
            var y = [Double](repeating: 0, count: out.reduce(1, *))
            switch node.op {
            case .conv(let c):
                y = convolve(c, x, xShape, out)
            case .batchNorm(let scale, let shift):
                let inner = xShape.dropFirst(2).reduce(1, *), channels = xShape[1]
                for i in 0..<y.count {
                    let c = (i / inner) % channels
                    y[i] = x[i] * Double(scale[c]) + Double(shift[c])
                }
            case .relu:
                for i in 0..<y.count { y[i] = max(x[i], 0); decisions.append(x[i] > 0 ? 1 : 0) }
            case .clip(let lo, let hi):
                for i in 0..<y.count {
                    y[i] = min(max(x[i], Double(lo)), Double(hi))
                    decisions.append(x[i] <= Double(lo) ? 0 : (x[i] >= Double(hi) ? 2 : 1))
                }
            case .leakyRelu(let a):
                for i in 0..<y.count { y[i] = x[i] > 0 ? x[i] : Double(a) * x[i]; decisions.append(x[i] > 0 ? 1 : 0) }
            case .sigmoid:
                for i in 0..<y.count { y[i] = 1 / (1 + exp(-x[i])) }
            case .tanh:
                for i in 0..<y.count { y[i] = Foundation.tanh(x[i]) }
            case .identity, .reshape:
                y = x
            case .maxPool(let win):
                forEachWindow(xShape, out, win) { plane, o, taps in
                    var best = -Double.infinity, at = -1
                    for t in taps where t.inside {
                        if at < 0 || x[plane + t.index] > best { best = x[plane + t.index]; at = t.index }
                    }
                    y[o] = best
                    decisions.append(at)
                }
            case .averagePool(let win, let includePad):
                let (h, w) = (xShape[2], xShape[3])
                forEachWindow(xShape, out, win) { plane, o, taps in
                    let inside = taps.filter(\.inside)
                    let padded = taps.filter { t in
                        t.y >= -win.padTop && t.y < h + win.padBottom && t.x >= -win.padLeft && t.x < w + win.padRight
                    }
                    let divisor = includePad ? padded.count : inside.count
                    y[o] = inside.reduce(0.0) { $0 + x[plane + $1.index] } / Double(divisor)
                }
            case .globalAveragePool:
                let size = xShape[2] * xShape[3]
                for i in 0..<x.count { y[i / size] += x[i] / Double(size) }
            case .lrn(let p):
                let (n, ch, plane) = (xShape[0], xShape[1], xShape[2] * xShape[3])
                let down = (p.size - 1) / 2, up = p.size - 1 - down
                for b in 0..<n {
                    for c in 0..<ch {
                        for i in 0..<plane {
                            var s = 0.0
                            for j in max(0, c - down)...min(ch - 1, c + up) { s += x[(b * ch + j) * plane + i] * x[(b * ch + j) * plane + i] }
                            let d = Double(p.bias) + Double(p.alpha) / Double(p.size) * s
                            y[(b * ch + c) * plane + i] = x[(b * ch + c) * plane + i] * pow(d, -Double(p.beta))
                        }
                    }
                }
            case .add, .mul:
                let multiply: Bool = { if case .mul = node.op { return true }; return false }()
                let a = values[node.inputs[0]], bv = values[node.inputs[1]]
                let sa = mapIndices(out, strides: broadcastStrides(shapes[0], out))
                let sb = mapIndices(out, strides: broadcastStrides(shapes[1], out))
                for i in 0..<y.count {
                    let u = a[sa[i]], v = bv[sb[i]]
                    y[i] = multiply ? u * v : u + v
                }
            case .concat(let axis):
                var offset = 0
                for (k, v) in node.inputs.enumerated() {
                    var offsets = [Int](repeating: 0, count: out.count)
                    offsets[axis] = offset
                    let at = mapIndices(shapes[k], strides: strides(out), offsets: offsets)
                    for j in 0..<values[v].count { y[at[j]] = values[v][j] }
                    offset += shapes[k][axis]
                }
            case .dense(let d):
                for b in 0..<(x.count / d.inFeatures) {
                    for o in 0..<d.outFeatures {
                        var s = Double(d.bias[o])
                        for k in 0..<d.inFeatures { s += Double(d.weight[o * d.inFeatures + k]) * x[b * d.inFeatures + k] }
                        y[b * d.outFeatures + o] = s
                    }
                }
            case .softmax(let axis):
                for line in softmaxLines(xShape, axis: axis) {
                    let m = line.map { x[$0] }.max()!
                    let e = line.map { exp(x[$0] - m) }
                    let total = e.reduce(0, +)
                    for (k, j) in line.enumerated() { y[j] = e[k] / total }
                }
            case .pad(let begins, _, let value):
                y = [Double](repeating: Double(value), count: y.count)
                let at = mapIndices(xShape, strides: strides(out), offsets: begins)
                for i in 0..<x.count { y[at[i]] = x[i] }
            default: y = numericForward(node.op, inputs: node.inputs.map { values[$0] }, shapes: shapes, output: out, decisions: &decisions)
            }
            values[node.output] = y
        }
        return (values, decisions)
    }

    // MARK: - Convolution

    /// Calls `body(xIndex, weightIndex, yIndex)` for every product of a convolution's forward sum:
    /// y[b, oc, oy, ox] += w[oc, ic, ky, kx] · x[b, g·cpg + ic, oy·s − pad + ky·d, ...] inside the input.
    private static func forEachProduct(_ c: Convolution, _ xShape: [Int], _ out: [Int],
                                       _ body: (Int, Int, Int) -> Void) {
        let (n, ch, h, w) = (xShape[0], xShape[1], xShape[2], xShape[3])
        let (oh, ow) = (out[2], out[3])
        let win = c.window
        let cpg = c.inChannelsPerGroup, mpg = c.outChannels / c.groups
        for b in 0..<n {
            for oc in 0..<c.outChannels {
                let g = oc / mpg
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let yi = ((b * c.outChannels + oc) * oh + oy) * ow + ox
                        for ic in 0..<cpg {
                            let plane = (b * ch + g * cpg + ic) * h
                            let kernel = (oc * cpg + ic) * win.kernelH
                            for ky in 0..<win.kernelH {
                                let iy = oy * win.strideH - win.padTop + ky * win.dilationH
                                if iy < 0 || iy >= h { continue }
                                for kx in 0..<win.kernelW {
                                    let ix = ox * win.strideW - win.padLeft + kx * win.dilationW
                                    if ix < 0 || ix >= w { continue }
                                    body((plane + iy) * w + ix, (kernel + ky) * win.kernelW + kx, yi)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The convolution's forward output, bias included.
    static func convolve(_ c: Convolution, _ x: [Double], _ xShape: [Int], _ out: [Int]) -> [Double] {
        let inner = out[2] * out[3]
        var y = (0..<out.reduce(1, *)).map { Double(c.bias[($0 / inner) % c.outChannels]) }
        let weight = c.weight.map(Double.init)
        x.withUnsafeBufferPointer { xp in
            weight.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer { yp in
                    forEachProduct(c, xShape, out) { xi, wi, yi in yp[yi] += wp[wi] * xp[xi] }
                }
            }
        }
        return y
    }

    /// The transposed convolution: each product of the forward sum sends its share of gy back.
    static func convolveTransposed(_ c: Convolution, _ gy: [Double], _ xShape: [Int], _ out: [Int]) -> [Double] {
        var gx = [Double](repeating: 0, count: xShape.reduce(1, *))
        let weight = c.weight.map(Double.init)
        gy.withUnsafeBufferPointer { gp in
            weight.withUnsafeBufferPointer { wp in
                gx.withUnsafeMutableBufferPointer { xp in
                    forEachProduct(c, xShape, out) { xi, wi, yi in xp[xi] += wp[wi] * gp[yi] }
                }
            }
        }
        return gx
    }

    // MARK: - Index arithmetic

    struct Tap { var y: Int, x: Int, index: Int, inside: Bool }

    /// Calls `body(planeStart, outputIndex, taps)` for every pooling window, with its taps (input
    /// positions, padded ones included) in row-major order.
    private static func forEachWindow(_ xShape: [Int], _ output: [Int], _ win: Window,
                                      _ body: (Int, Int, [Tap]) -> Void) {
        let (planes, h, w) = (xShape[0] * xShape[1], xShape[2], xShape[3])
        let (oh, ow) = (output[2], output[3])
        for p in 0..<planes {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var taps: [Tap] = []
                    for ky in 0..<win.kernelH {
                        for kx in 0..<win.kernelW {
                            let iy = oy * win.strideH - win.padTop + ky * win.dilationH
                            let ix = ox * win.strideW - win.padLeft + kx * win.dilationW
                            taps.append(Tap(y: iy, x: ix, index: iy * w + ix, inside: iy >= 0 && iy < h && ix >= 0 && ix < w))
                        }
                    }
                    body(p * h * w, (p * oh + oy) * ow + ox, taps)
                }
            }
        }
    }

    static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in (0..<shape.count).reversed() { s[i] = acc; acc *= shape[i] }
        return s
    }

    /// For every element of a tensor of shape `shape`, in row-major order, the flat index of the
    /// same multi-index (plus `offsets`) in a tensor laid out with `strides`.
    static func mapIndices(_ shape: [Int], strides: [Int], offsets: [Int]? = nil) -> [Int] {
        let n = shape.reduce(1, *)
        var out = [Int](repeating: 0, count: n)
        var idx = [Int](repeating: 0, count: shape.count)
        var flat = offsets.map { zip($0, strides).map(*).reduce(0, +) } ?? 0
        for i in 0..<n {
            out[i] = flat
            var d = shape.count - 1
            while d >= 0 {
                idx[d] += 1
                flat += strides[d]
                if idx[d] < shape[d] { break }
                flat -= strides[d] * shape[d]
                idx[d] = 0
                d -= 1
            }
        }
        return out
    }

    /// NumPy broadcasting: the strides with which an operand of shape `shape` is read at the
    /// multi-indices of `out` (0 along dimensions it lacks or has as 1).
    static func broadcastStrides(_ shape: [Int], _ out: [Int]) -> [Int] {
        let pad = out.count - shape.count
        let own = strides(shape)
        return (0..<out.count).map { i in i < pad || shape[i - pad] == 1 ? 0 : own[i - pad] }
    }

    /// The flat indices of every line along `axis`.
    static func softmaxLines(_ shape: [Int], axis: Int) -> [[Int]] {
        let outer = shape[..<axis].reduce(1, *), length = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        var lines: [[Int]] = []
        for o in 0..<outer {
            for i in 0..<inner { lines.append((0..<length).map { o * length * inner + $0 * inner + i }) }
        }
        return lines
    }
}
