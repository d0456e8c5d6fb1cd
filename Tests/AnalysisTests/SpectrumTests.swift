import Analysis
import Engine
import Testing
import TestSupport

@Suite struct SpectrumTests {
    @Test("the Gram matrix equals the double-precision dot products, across several column blocks", arguments: [13, 9000])
    func gram(dimension: Int) {
        var g = SplitMix64(seed: UInt64(dimension))
        let n = 7
        let data = uniformFloats(n * dimension, using: &g)
        data.withUnsafeBufferPointer { p in
            let points = PointMatrix(base: p.baseAddress!, count: n, dimension: dimension)
            let gram = GramMatrix(points)
            for i in 0..<n {
                for j in 0..<n {
                    var dot = 0.0
                    for k in 0..<dimension { dot += Double(data[i * dimension + k]) * Double(data[j * dimension + k]) }
                    #expect(abs(gram[i, j] - dot) <= 1e-5 * Double(dimension))
                    #expect(gram[i, j] == gram[j, i])
                }
                #expect(abs(gram.squaredDistance(i, (i + 1) % n) - points.squaredDistance(i, (i + 1) % n)) <= 1e-4 * Double(dimension))
            }
        }
    }

    @Test("PCA finds the variances of independent axes, and counts the components that hold 90%")
    func axes() {
        var g = SplitMix64(seed: 2)
        let n = 4000
        let sd: [Float] = [3, 2, 1, 0.1]   // variances 9, 4, 1, 0.01: 9 + 4 = 92.8% of 14.01
        var data = [Float](repeating: 0, count: n * 4)
        let noise = normalFloats(n * 4, using: &g)
        for i in 0..<n { for k in 0..<4 { data[i * 4 + k] = 5 + sd[k] * noise[i * 4 + k] } }
        data.withUnsafeBufferPointer { p in
            let points = PointMatrix(base: p.baseAddress!, count: n, dimension: 4)
            let spectrum = PCASpectrum(gram: GramMatrix(points), subset: Array(0..<n))
            #expect(spectrum.variances.count == n)
            for (k, expected) in [9.0, 4.0, 1.0, 0.01].enumerated() {
                #expect(abs(spectrum.variances[k] - expected) < 0.06 * expected, "component \(k): \(spectrum.variances[k])")
            }
            #expect(spectrum.variances[4] < 1e-3)
            #expect(spectrum.components(holding: 0.9) == 2)
            #expect(spectrum.components(holding: 0.95) == 3)
        }
    }

    @Test("layers are grouped into passes that fit the memory budget, in order")
    func passes() {
        let layers = (0..<5).map { LayerSample(name: "l\($0)", value: $0, depth: Double($0 + 1) / 5, dimension: [10, 20, 30, 100, 5][$0]) }
        let groups = LayerSample.passes(layers, images: 2, budget: 50 * 2 * 4)
        #expect(groups.map { $0.map(\.name) } == [["l0", "l1"], ["l2"], ["l3"], ["l4"]])
        #expect(LayerSample.passes(layers, images: 1, budget: .max).count == 1)
    }
}
