/// HardSwish: y = x · max(0, min(1, x/6 + 1/2)) (MobileNetV3).
struct HardSwishFunction: PointwiseFunction {
    var kindName: String { "HardSwish" }
    func value(_ x: Float) -> Float { x * Swift.max(0, Swift.min(1, x / 6 + 0.5)) }
    /// 0 below −3, 1 above 3, (2x + 3)/6 between.
    func derivative(x: Float, y: Float) -> Float { x <= -3 ? 0 : (x >= 3 ? 1 : (2 * x + 3) / 6) }
}
