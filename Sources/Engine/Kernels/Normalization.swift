import Foundation

enum Normalization {
    /// Cross-channel LRN (ONNX semantics) at spatial positions `start..<end` of one image [C, HW]:
    /// y[c] = x[c] / (bias + alpha/size · Σ_{c'} x[c']²)^beta with c' from c − ⌊(size−1)/2⌋ to
    /// c + ⌈(size−1)/2⌉, clipped to the channels that exist.
    static func lrn(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, channels: Int, plane: Int,
                    start: Int, end: Int, _ p: LocalResponseNorm) {
        let before = (p.size - 1) / 2, after = p.size - 1 - before
        let scale = p.alpha / Float(p.size)
        for c in 0..<channels {
            let lo = max(0, c - before), hi = min(channels - 1, c + after)
            for i in start..<end {
                var s: Float = 0
                for k in lo...hi { let v = x[k * plane + i]; s += v * v }
                y[c * plane + i] = x[c * plane + i] / powf(p.bias + scale * s, p.beta)
            }
        }
    }

    /// Softmax along an axis of `length` elements spaced `inner` apart, for one (outer, inner) line.
    static func softmax(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, length: Int, inner: Int) {
        var m = -Float.infinity
        for k in 0..<length { m = max(m, x[k * inner]) }
        var s: Float = 0
        for k in 0..<length { let e = expf(x[k * inner] - m); y[k * inner] = e; s += e }
        let r = 1 / s
        for k in 0..<length { y[k * inner] *= r }
    }
}

/// A tensor seen as lines along one axis, as Softmax and LogSoftmax work on it: `outer` blocks of
/// `length` elements spaced `inner` apart, `inner` lines per block.
struct AxisLines {
    let outer: Int, length: Int, inner: Int

    init(_ s: Shape, axis: Int) {
        (outer, length, inner) = (s.dims[..<axis].reduce(1, *), s[axis], s.dims[(axis + 1)...].reduce(1, *))
    }

    /// The first element of line `t` (of `outer · inner`).
    @inline(__always) func base(_ t: Int) -> Int { (t / inner) * length * inner + t % inner }

    /// The one-input shape rule of an op along `axis`: the input's shape.
    static func outputShape(_ check: ShapeCheck, axis: Int) throws -> Shape {
        try check.inputs(1)
        guard axis >= 0 && axis < check.first.rank else {
            throw check.fail("\(check.kind) axis \(axis) outside rank \(check.first.rank)")
        }
        return check.first
    }
}
