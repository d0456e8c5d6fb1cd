import Analysis
import Foundation
import Testing
import TestSupport

/// Points of a known dimension without a boundary (which biases TwoNN low, Facco et al.): `count`
/// samples uniform on the flat d-torus, each angle θ as (cos θ, sin θ), rotated into `ambient`
/// dimensions by a random linear map.
func flatManifold(dimension d: Int, ambient: Int, count: Int, seed: UInt64) -> [Float] {
    var g = SplitMix64(seed: seed)
    let map = normalFloats(2 * d * ambient, using: &g)
    var out = [Float](repeating: 0, count: count * ambient)
    for i in 0..<count {
        var torus: [Float] = []
        for _ in 0..<d {
            let t = 2 * Float.pi * g.nextUnit()
            torus += [cos(t), sin(t)]
        }
        for k in 0..<ambient {
            var s: Float = 0
            for j in 0..<(2 * d) { s += torus[j] * map[j * ambient + k] }
            out[i * ambient + k] = s
        }
    }
    return out
}

func report(_ data: [Float], dimension: Int) -> DimensionReport {
    data.withUnsafeBufferPointer { DimensionReport(PointMatrix(base: $0.baseAddress!, count: data.count / dimension, dimension: dimension)) }
}

@Suite struct TwoNNTests {
    @Test("the fit recovers d exactly from ratios that follow the Pareto law's quantiles")
    func fitOnExactQuantiles() throws {
        for d in [1.0, 2.5, 7.0] {
            let n = 400
            // F(μ) = 1 − μ^(−d) at F = i/N: μ_i = (1 − i/N)^(−1/d); the last one is discarded anyway.
            let ratios = (1...n).map { i in i == n ? 1e6 : pow(1 - Double(i) / Double(n), -1 / d) }
            #expect(abs(try TwoNN.fit(ratios: ratios.shuffled()) - d) < 1e-9)
        }
    }

    @Test("uniform points on flat tori of dimension 1, 2 and 5 in 40 dimensions", arguments: [1, 2, 5])
    func flatManifolds(d: Int) throws {
        let r = report(flatManifold(dimension: d, ambient: 40, count: 1500, seed: UInt64(d)), dimension: 40)
        let id = try r.intrinsic.get()
        // Unbiased on a uniform manifold without boundary; the curvature of the torus shows from d ≈ 8 at this N.
        #expect(abs(id - Double(d)) < 0.12 * Double(d) + 0.1, "ID \(id) for d = \(d)")
        #expect(r.points == 1500 && r.duplicates == 0)
        let spread = try #require(r.spread)
        #expect(spread > 0 && spread < 0.2 * Double(d) + 0.2)
    }

    @Test("a circle in 3-D is one-dimensional: a curved manifold, where PCA needs 2 components")
    func circle() throws {
        var g = SplitMix64(seed: 5)
        var data: [Float] = []
        for _ in 0..<800 {
            let t = Float.random(in: 0..<(2 * .pi), using: &g)
            data += [cos(t), sin(t), 0.3]
        }
        let r = report(data, dimension: 3)
        let id = try r.intrinsic.get()
        #expect(abs(id - 1) < 0.2, "ID \(id)")
        #expect(r.pca90 == 2)
    }

    @Test("repeated rows are left out and counted; the estimate is that of the distinct points")
    func duplicates() throws {
        let base = flatManifold(dimension: 3, ambient: 10, count: 300, seed: 9)
        let repeated = base + Array(base[0..<(50 * 10)])
        let a = report(base, dimension: 10), b = report(repeated, dimension: 10)
        #expect(b.duplicates == 50 && b.points == 300)
        #expect(try a.intrinsic.get() == b.intrinsic.get())
        #expect(a.pca90 == b.pca90)
    }

    @Test("too few distinct points, and a set where every ratio is 1, say so")
    func failures() {
        let two = report([0, 0, 1, 1, 0, 0], dimension: 2)   // (0,0) (1,1) (0,0): 2 distinct
        #expect(two.intrinsic == .failure(.tooFewPoints(2)))
        let s = Float(3).squareRoot() / 2
        let triangle = report([0, 0, 1, 0, 0.5, s], dimension: 2)
        #expect(triangle.intrinsic == .failure(.degenerate))
        #expect(triangle.spread == nil)
    }

    @Test("the spread is the same from run to run, and absent below 20 points")
    func spreadIsSeeded() {
        let data = flatManifold(dimension: 4, ambient: 12, count: 200, seed: 3)
        #expect(report(data, dimension: 12).spread == report(data, dimension: 12).spread)
        #expect(report(Array(data[0..<(19 * 12)]), dimension: 12).spread == nil)
    }
}
