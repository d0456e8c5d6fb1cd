import Support

/// The intrinsic dimension of a set of points by TwoNN (Facco, d'Errico, Rodriguez & Laio, "Estimating
/// the intrinsic dimension of datasets by a minimal neighborhood information", Sci. Rep. 2017), as
/// Ansuini et al. (NeurIPS 2019) apply it to the layers of deep networks:
///
/// 1. for each point, μ = r₂ / r₁, the ratio of its second- to its first-nearest-neighbour distance
///    (exact neighbours, among distinct points);
/// 2. on a locally uniform d-dimensional manifold μ follows a Pareto law, F(μ) = 1 − μ^(−d), so
///    −log(1 − F(μ)) = d · log μ;
/// 3. sort the μ, take the empirical F(μ₍ᵢ₎) = i / N, discard the largest 10% of the ratios (the
///    tail that density changes and outliers distort), and fit the line through the origin by least
///    squares: d = Σ xᵢyᵢ / Σ xᵢ², x = log μ, y = −log(1 − F).
public enum TwoNN {
    /// The fraction of the largest ratios left out of the fit.
    public static let discardedFraction = 0.1

    public struct Estimate: Sendable, Equatable {
        /// The intrinsic dimension.
        public var dimension: Double
        /// The distinct points it was computed on.
        public var points: Int
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// Fewer than 3 distinct points: no second neighbour, or nothing to fit.
        case tooFewPoints(Int)
        /// Every point is as far from its second neighbour as from its first (a regular lattice):
        /// the Pareto law's slope is undefined.
        case degenerate

        public var description: String {
            switch self {
            case .tooFewPoints(let n):
                return "the intrinsic dimension needs at least 3 distinct points, got \(n)"
            case .degenerate:
                return "every point is exactly as far from its second nearest neighbour as from its first, so the TwoNN fit has no slope"
            }
        }
    }

    /// μ = r₂ / r₁ for every point of `subset` (indices into `points`), its neighbours searched
    /// within `subset`. Candidates come from the Gram matrix; the three nearest are re-measured
    /// exactly, so cancellation in G never picks the wrong neighbour among close points.
    public static func ratios(_ points: PointMatrix, gram: GramMatrix, subset: [Int]) -> [Double] {
        var ratios: [Double] = []
        ratios.reserveCapacity(subset.count)
        for i in subset {
            // The three smallest squared distances from i, by Gram, in increasing order.
            var best: [(d: Double, j: Int)] = [(.infinity, -1), (.infinity, -1), (.infinity, -1)]
            for j in subset where j != i {
                let d = gram.squaredDistance(i, j)
                if d < best[2].d {
                    best[2] = (d, j)
                    if best[2].d < best[1].d { best.swapAt(1, 2) }
                    if best[1].d < best[0].d { best.swapAt(0, 1) }
                }
            }
            let exact = best.filter { $0.j >= 0 }.map { points.squaredDistance(i, $0.j) }.sorted()
            guard exact.count >= 2, exact[0] > 0 else { continue }
            ratios.append((exact[1] / exact[0]).squareRoot())
        }
        return ratios
    }

    /// The fit of step 3 on a set of ratios.
    public static func fit(ratios: [Double]) throws(Failure) -> Double {
        let n = ratios.count
        guard n >= 3 else { throw .tooFewPoints(n) }
        let sorted = ratios.sorted()
        let kept = max(Int((Double(n) * (1 - discardedFraction)).rounded(.down)), 2)
        var sxy = 0.0, sxx = 0.0
        for i in 0..<min(kept, n - 1) {   // F = i/N reaches 1 only at the last ratio
            let x = log(sorted[i])
            let y = -log(1 - Double(i + 1) / Double(n))
            sxy += x * y
            sxx += x * x
        }
        // Ratios all within rounding of 1 (|log μ| below 1e-5 on average) give no slope.
        guard sxx > 1e-10 * Double(min(kept, n - 1)) else { throw .degenerate }
        return sxy / sxx
    }

    /// The intrinsic dimension of the distinct points among `subset`.
    public static func estimate(_ points: PointMatrix, gram: GramMatrix, subset: [Int]) throws(Failure) -> Estimate {
        guard subset.count >= 3 else { throw .tooFewPoints(subset.count) }
        let r = ratios(points, gram: gram, subset: subset)
        return Estimate(dimension: try fit(ratios: r), points: subset.count)
    }

    /// The spread of the estimate: its standard deviation over `draws` random halves of `subset`
    /// (the subsampling error bar of Facco et al. and Ansuini et al.), nil below 20 points.
    public static func spread(_ points: PointMatrix, gram: GramMatrix, subset: [Int], draws: Int = 5,
                              seed: UInt64 = 1) -> Double? {
        guard subset.count >= 20, draws >= 2 else { return nil }
        var generator = SplitMix64(seed: seed)
        var estimates: [Double] = []
        for _ in 0..<draws {
            var half = subset
            half.shuffle(using: &generator)
            half = Array(half.prefix(subset.count / 2)).sorted()
            if let e = try? estimate(points, gram: gram, subset: half) { estimates.append(e.dimension) }
        }
        guard estimates.count >= 2 else { return nil }
        let mean = estimates.reduce(0, +) / Double(estimates.count)
        let variance = estimates.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(estimates.count - 1)
        return variance.squareRoot()
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
