import Foundation

/// Softplus: y = ln(1 + eˣ), computed as x + ln(1 + e⁻ˣ) for x > 0 so large inputs do not overflow.
struct SoftplusFunction: PointwiseFunction {
    var kindName: String { "Softplus" }
    func value(_ x: Float) -> Float { x > 0 ? x + log1pf(expf(-x)) : log1pf(expf(x)) }
    /// The logistic sigmoid 1 / (1 + e⁻ˣ).
    func derivative(x: Float, y: Float) -> Float { 1 / (1 + expf(-x)) }
}
