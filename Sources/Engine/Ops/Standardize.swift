import Foundation

/// What InstanceNormalization and LayerNormalization share: each group of `n` consecutive
/// elements is standardized, x̂ = (x − μ) / √(σ² + ε) with the group's mean and (biased) variance,
/// then scaled and shifted; the backward pass is the true gradient of that standardization.
enum Standardize {
    /// The mean and 1/√(σ² + ε) of `n` elements, accumulated in double precision.
    @inline(__always) static func moments(_ x: UnsafePointer<Float>, _ n: Int, epsilon: Float) -> (mean: Float, inverse: Float) {
        var s = 0.0
        for i in 0..<n { s += Double(x[i]) }
        let mean = s / Double(n)
        var v = 0.0
        for i in 0..<n { let d = Double(x[i]) - mean; v += d * d }
        return (Float(mean), Float(1 / (v / Double(n) + Double(epsilon)).squareRoot()))
    }

    /// y = x̂ · scale(i) + shift(i) over one group.
    @inline(__always) static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int,
                                          epsilon: Float, scale: (Int) -> Float, shift: (Int) -> Float) {
        let (mean, r) = moments(x, n, epsilon: epsilon)
        for i in 0..<n { y[i] = (x[i] - mean) * r * scale(i) + shift(i) }
    }

    /// gx = r · (h − mean(h) − x̂ · mean(h · x̂)) with h = gy · scale(i), over one group.
    @inline(__always) static func backward(_ x: UnsafePointer<Float>, _ gy: UnsafePointer<Float>,
                                           _ gx: UnsafeMutablePointer<Float>, _ n: Int, set: Bool,
                                           epsilon: Float, scale: (Int) -> Float) {
        let (mean, r) = moments(x, n, epsilon: epsilon)
        var sh = 0.0, shx = 0.0
        for i in 0..<n {
            let h = Double(gy[i] * scale(i)), xh = Double((x[i] - mean) * r)
            sh += h; shx += h * xh
        }
        let mh = Float(sh / Double(n)), mhx = Float(shx / Double(n))
        for i in 0..<n {
            let xh = (x[i] - mean) * r
            put(gx + i, r * (gy[i] * scale(i) - mh - xh * mhx), set)
        }
    }
}
