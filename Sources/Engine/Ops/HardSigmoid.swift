/// HardSigmoid(α, β): y = max(0, min(1, α·x + β)) (the squeeze-excite gate of MobileNetV3).
struct HardSigmoidFunction: PointwiseFunction {
    let alpha: Float, beta: Float
    var kindName: String { "HardSigmoid" }
    func value(_ x: Float) -> Float { Swift.max(0, Swift.min(1, alpha * x + beta)) }
    /// α inside the ramp (0 < α·x + β < 1), 0 where it is flat.
    func derivative(x: Float, y: Float) -> Float {
        let t = alpha * x + beta
        return t > 0 && t < 1 ? alpha : 0
    }
}
