import Foundation

/// Gelu (opset 20): y = x · Φ(x) = x · ½ · (1 + erf(x / √2)), or with `tanh` its approximation
/// x · ½ · (1 + tanh(√(2/π) · (x + 0.044715 x³))).
struct GeluFunction: PointwiseFunction {
    let tanhApproximation: Bool
    var kindName: String { "Gelu" }

    func value(_ x: Float) -> Float {
        if tanhApproximation { return 0.5 * x * (1 + tanhf(0.7978845608 * (x + 0.044715 * x * x * x))) }
        return 0.5 * x * (1 + erff(x * 0.70710678118654752))
    }

    /// Φ(x) + x·φ(x), or the derivative of the approximation.
    func derivative(x: Float, y: Float) -> Float {
        if tanhApproximation {
            let u = 0.7978845608 * (x + 0.044715 * x * x * x), t = tanhf(u)
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * 0.7978845608 * (1 + 3 * 0.044715 * x * x)
        }
        return 0.5 * (1 + erff(x * 0.70710678118654752)) + x * 0.3989422804014327 * expf(-0.5 * x * x)
    }
}
