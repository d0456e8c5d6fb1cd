/// A network's representation layer by layer: the intrinsic dimension (with its spread) and the
/// linear dimension (PCA-90) against relative depth, what `deepscope id --plot` and the window's
/// profile pane draw. Pure data and scales; no drawing.
public struct DepthProfile: Sendable, Equatable {
    public struct Layer: Sendable, Equatable {
        public var name: String
        /// Relative depth in [0, 1].
        public var depth: Double
        /// The TwoNN estimate, nil where it has none.
        public var intrinsic: Double?
        public var spread: Double?
        public var pca90: Int

        public init(name: String, depth: Double, intrinsic: Double?, spread: Double?, pca90: Int) {
            self.name = name
            self.depth = depth
            self.intrinsic = intrinsic
            self.spread = spread
            self.pca90 = pca90
        }
    }

    /// In increasing depth.
    public var layers: [Layer]
    /// The points each estimate used.
    public var points: Int

    public init(layers: [Layer], points: Int) {
        self.layers = layers.sorted { $0.depth < $1.depth }
        self.points = points
    }

    /// An axis from 0 to a round maximum that holds every value, with its tick step.
    public struct Axis: Sendable, Equatable {
        public var maximum: Double
        public var step: Double

        /// 1, 2 or 5 times a power of ten, giving 3 to 6 ticks above 0.
        public init(holding largest: Double) {
            let top = max(largest, 1e-9)
            var step = 1.0
            while step * 6 < top { step *= 10 }
            while step * 3 > top && step > 1e-9 { step /= 10 }
            for factor in [1.0, 2, 5, 10] where step * factor * 6 >= top {
                step *= factor
                break
            }
            self.step = step
            maximum = (top / step).rounded(.up) * step
        }

        public var ticks: [Double] { stride(from: 0, through: maximum + step / 2, by: step).map { $0 } }
    }

    /// The left axis: intrinsic dimension plus its spread.
    public var intrinsicAxis: Axis {
        Axis(holding: layers.compactMap { l in l.intrinsic.map { $0 + (l.spread ?? 0) } }.max() ?? 1)
    }

    /// The right axis: PCA-90 components.
    public var pcaAxis: Axis { Axis(holding: Double(layers.map(\.pca90).max() ?? 1)) }
}
