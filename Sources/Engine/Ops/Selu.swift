import Foundation

/// Selu(α, γ): y = γ·x for x > 0, γ·α·(eˣ − 1) otherwise.
struct SeluFunction: PointwiseFunction {
    let alpha: Float, gamma: Float
    var kindName: String { "Selu" }
    func value(_ x: Float) -> Float { x > 0 ? gamma * x : gamma * alpha * (expf(x) - 1) }
    /// γ for x > 0, γ·α·eˣ otherwise.
    func derivative(x: Float, y: Float) -> Float { x > 0 ? gamma : gamma * alpha * expf(x) }
}
