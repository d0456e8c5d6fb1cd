import Foundation

/// Elu(α): y = x for x > 0, α·(eˣ − 1) otherwise.
struct EluFunction: PointwiseFunction {
    let alpha: Float
    var kindName: String { "Elu" }
    func value(_ x: Float) -> Float { x > 0 ? x : alpha * (expf(x) - 1) }
    /// 1 for x > 0, α·eˣ = y + α otherwise.
    func derivative(x: Float, y: Float) -> Float { x > 0 ? 1 : alpha * expf(x) }
}
