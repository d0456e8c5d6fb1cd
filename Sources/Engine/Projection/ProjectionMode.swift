/// How a unit's activation is carried back to the input pixels.
///
/// The three modes are a contract (other tools compare against them). Each is a backward pass from
/// the unit's seed to the input through every op; they differ only at the rectifiers:
///
/// | op | `gradient` | `deconv` (Zeiler & Fergus 2014) | `guided` (Springenberg et al. 2014) |
/// |---|---|---|---|
/// | Relu | g·[x > 0] | max(g, 0) | g·[x > 0]·[g > 0] |
/// | Clip(lo, hi) | g·[lo < x < hi] | max(g, 0) if lo = 0, else g·[lo < x < hi] | g·[lo < x < hi]·[g > 0] |
/// | LeakyRelu(a) | g·(x > 0 ? 1 : a) | g > 0 ? g : a·g | g·[g > 0]·(x > 0 ? 1 : a) |
///
/// Every other op uses its true local gradient, the same in all three modes:
/// - Conv (BatchNormalization folded in, or standalone as a per-channel scale): the transposed
///   convolution with the same weights;
/// - MaxPool: through the switches of the forward pass (the first maximum of each window in
///   row-major order, also when the window is all equal; padding and ceil-mode overhang never win);
/// - AveragePool spreads evenly over the positions its forward divisor counted; GlobalAveragePool
///   over the whole plane;
/// - Add passes the gradient to both inputs (summed over broadcast dimensions); Mul scales it by the
///   other input; Concat routes each slice back to its input; Pad crops; Reshape, Flatten, Dropout
///   and Identity pass it through;
/// - LRN, Sigmoid and Softmax use their local derivative at the forward values; Gemm multiplies by
///   the transposed weights.
///
/// Where a tensor feeds several ops, their contributions are summed before its producer is
/// processed.
public enum ProjectionMode: String, CaseIterable, Sendable {
    case deconv, guided, gradient
}

/// Why a projection cannot start: one sentence naming the valid range.
public enum ProjectionError: Error, CustomStringConvertible, Equatable {
    case unknownLayer(String)
    case channelOutOfRange(layer: String, channel: Int, channels: Int)
    case positionOutsideMap(layer: String, y: Int, x: Int, height: Int, width: Int)

    public var description: String {
        switch self {
        case .unknownLayer(let name):
            return "The model has no layer named '\(name)'; `deepscope inspect` lists them."
        case .channelOutOfRange(let layer, let c, let n):
            return "Layer '\(layer)' has channels 0 to \(n - 1); \(c) is out of range."
        case .positionOutsideMap(let layer, let y, let x, let h, let w):
            return "Position \(y),\(x) is outside layer '\(layer)', whose map is \(h)×\(w) (Y from 0 to \(h - 1), X from 0 to \(w - 1))."
        }
    }
}

