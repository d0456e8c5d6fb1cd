// The convolution and index arithmetic that the naive projection and its forward pass share (see
// ProjectionReference.swift).

import Engine
import Foundation

extension NaiveProjection {
    // MARK: - Convolution

    /// Calls `body(xIndex, weightIndex, yIndex)` for every product of a convolution's forward sum:
    /// y[b, oc, oy, ox] += w[oc, ic, ky, kx] · x[b, g·cpg + ic, oy·s − pad + ky·d, ...] inside the input.
    static func forEachProduct(_ c: Convolution, _ xShape: [Int], _ out: [Int],
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
    static func forEachWindow(_ xShape: [Int], _ output: [Int], _ win: Window,
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
