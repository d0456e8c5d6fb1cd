import Foundation

/// Sqrt: y = √x (NaN below 0).
struct SqrtFunction: PointwiseFunction {
    var kindName: String { "Sqrt" }
    func value(_ x: Float) -> Float { sqrtf(x) }
    /// 1 / (2√x).
    func derivative(x: Float, y: Float) -> Float { 0.5 / y }
}
