import Testing
import Visualization

@Suite struct DepthProfileTests {
    @Test("an axis ends at a round number above every value, with 3 to 6 ticks of 1, 2 or 5 × 10ⁿ",
          arguments: [(0.7, 0.8, 0.2), (3.0, 3.0, 1.0), (11.5, 12.0, 2.0), (114.3, 120.0, 20.0), (480.0, 500.0, 100.0), (1001.0, 1200.0, 200.0)])
    func axis(largest: Double, maximum: Double, step: Double) {
        let a = DepthProfile.Axis(holding: largest)
        #expect(abs(a.maximum - maximum) < 1e-9 && abs(a.step - step) < 1e-9, "\(largest): \(a)")
        #expect(a.maximum >= largest && (3...7).contains(a.ticks.count))
    }

    @Test("layers are kept in depth order; the left axis holds the spread, the right one PCA-90")
    func scales() {
        let p = DepthProfile(layers: [
            .init(name: "b", depth: 0.8, intrinsic: 9, spread: 2, pca90: 40),
            .init(name: "a", depth: 0.2, intrinsic: nil, spread: nil, pca90: 7),
        ], points: 100)
        #expect(p.layers.map(\.name) == ["a", "b"])
        #expect(p.intrinsicAxis.maximum == 12 && p.pcaAxis.maximum == 40)
    }
}
