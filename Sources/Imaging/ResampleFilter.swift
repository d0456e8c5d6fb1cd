// The filters of a resize and the fixed-point weights that one axis of a `Resampler` applies
// (see Resampler.swift for the rules it follows).

/// The interpolation filter of a resize.
public enum ResampleFilter: String, Sendable, CaseIterable {
    /// Triangle filter (support 1), antialiased when shrinking: Pillow's `BILINEAR`.
    case bilinear
    /// Keys cubic with a = −0.5 (support 2), antialiased when shrinking: Pillow's `BICUBIC`.
    case bicubic

    /// Half-width of the filter at scale 1, in input pixels.
    public var support: Double {
        switch self {
        case .bilinear: return 1
        case .bicubic: return 2
        }
    }

    /// The filter's value at distance `x` (in input pixels at scale 1).
    public func weight(_ x: Double) -> Double {
        let x = abs(x)
        switch self {
        case .bilinear:
            return x < 1 ? 1 - x : 0
        case .bicubic:
            let a = -0.5
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        }
    }
}

/// Fixed-point weights for one axis: output sample `i` is
/// `Σ_{t < count[i]} input[first[i] + t] · weights[i · taps + t]`, scaled by 2^22.
struct AxisWeights: Sendable {
    static let precisionBits: Int32 = 22
    static let half: Int32 = 1 << (precisionBits - 1)

    let inputSize: Int
    let outputSize: Int
    let taps: Int
    var first: [Int32]
    var count: [Int32]
    var weights: [Int32]

    var isIdentity: Bool { inputSize == outputSize }

    init(inputSize: Int, outputSize: Int, filter: ResampleFilter) {
        precondition(inputSize > 0 && outputSize > 0, "resampling needs positive sizes")
        self.inputSize = inputSize
        self.outputSize = outputSize
        let scale = Double(inputSize) / Double(outputSize)
        let stretch = max(scale, 1)
        let support = filter.support * stretch
        let taps = Int(support.rounded(.up)) * 2 + 1
        self.taps = taps
        first = [Int32](repeating: 0, count: outputSize)
        count = [Int32](repeating: 0, count: outputSize)
        weights = [Int32](repeating: 0, count: outputSize * taps)

        var exact = [Double](repeating: 0, count: taps)
        for i in 0..<outputSize {
            let center = (Double(i) + 0.5) * scale
            let lo = max(Int(center - support + 0.5), 0)
            let hi = min(Int(center + support + 0.5), inputSize)
            let n = max(hi - lo, 0)
            var sum = 0.0
            let inverseStretch = 1 / stretch
            for t in 0..<n {
                let w = filter.weight((Double(t + lo) - center + 0.5) * inverseStretch)
                exact[t] = w
                sum += w
            }
            for t in 0..<n {
                let w = sum != 0 ? exact[t] / sum : exact[t]
                let scaled = w * Double(1 << Int(AxisWeights.precisionBits))
                weights[i * taps + t] = Int32(scaled < 0 ? scaled - 0.5 : scaled + 0.5)
            }
            first[i] = Int32(lo)
            count[i] = Int32(n)
        }
    }

    /// The input range `[lower, upper)` the outputs read.
    var inputSpan: (lower: Int, upper: Int) {
        (Int(first[0]), Int(first[outputSize - 1] + count[outputSize - 1]))
    }
}
