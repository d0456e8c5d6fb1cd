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
}
