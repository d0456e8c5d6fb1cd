import Foundation

/// Erf: the error function (with Div, Add and Mul it makes the Gelu that exporters emit,
/// x · ½ · (1 + erf(x / √2))).
struct ErfFunction: PointwiseFunction {
    var kindName: String { "Erf" }
    func value(_ x: Float) -> Float { erff(x) }
    /// 2/√π · e^(−x²).
    func derivative(x: Float, y: Float) -> Float { 1.1283791670955126 * expf(-x * x) }
}
