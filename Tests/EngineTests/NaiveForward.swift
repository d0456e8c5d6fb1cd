// A forward pass in double precision for the naive projection's finite differences (see
// ProjectionReference.swift).

import Engine
import Foundation

extension NaiveProjection {
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
}
