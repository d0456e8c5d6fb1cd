import Imaging
import Testing
@testable import Visualization

@Suite("Projection rendering")
struct ProjectionImageTests {
    /// A 3×4×5 projection with one positive and one negative pixel in channel 0.
    func sample() -> [Float] {
        var g = [Float](repeating: 0, count: 3 * 4 * 5)
        g[1 * 5 + 2] = 2      // channel 0, y 1, x 2
        g[3 * 5 + 4] = -2     // channel 0, y 3, x 4
        g[20 + 0] = 1         // channel 1, y 0, x 0
        return g
    }

    @Test func signedIsGrayAtZeroAndSymmetric() {
        let g = sample()
        let img = g.withUnsafeBufferPointer { renderProjection($0, height: 4, width: 5, options: .init(style: .signed, percentile: 100)) }
        #expect(img.width == 5 && img.height == 4)
        #expect(img[1, 2] == (128, 128, 128))              // zero → mid-gray (127.5 rounds up)
        #expect(img[2, 1].r == 255)                        // +max → white in its channel
        #expect(img[4, 3].r == 0)                          // −max → black
        #expect(img[0, 0].g == 191)                        // +half → 127.5 + 63.75
    }

    @Test func bgrSwapsChannels() {
        let g = sample()
        let img = g.withUnsafeBufferPointer { renderProjection($0, height: 4, width: 5, bgr: true, options: .init(percentile: 100)) }
        #expect(img[2, 1].b == 255 && img[2, 1].r == 128)
    }

    @Test func absoluteIsBlackAtZero() {
        let g = sample()
        let img = g.withUnsafeBufferPointer { renderProjection($0, height: 4, width: 5, options: .init(style: .absolute, percentile: 100)) }
        #expect(img[1, 2] == (0, 0, 0))
        #expect(img[2, 1] == (255, 255, 255))
        #expect(img[4, 3] == (255, 255, 255))
        #expect(img[0, 0].r == 128)
    }

    @Test func percentileClipsOutliers() {
        // One huge value among many small ones: the 99.5th percentile ignores it.
        var g = [Float](repeating: 0, count: 3 * 20 * 20)
        for i in 0..<400 { g[i] = 1 }
        g[0] = 1000
        let img = g.withUnsafeBufferPointer { renderProjection($0, height: 20, width: 20) }
        #expect(img[5, 5].r == 255, "ordinary pixels reach full scale")
    }

    @Test func zeroProjectionIsFlat() {
        let g = [Float](repeating: 0, count: 3 * 6 * 6)
        let signed = g.withUnsafeBufferPointer { renderProjection($0, height: 6, width: 6) }
        #expect(Set(signed.pixels) == [128])
        let absolute = g.withUnsafeBufferPointer { renderProjection($0, height: 6, width: 6, options: .init(style: .absolute)) }
        #expect(Set(absolute.pixels) == [0])
    }

    @Test func blurSpreadsAnImpulseAndKeepsItsSum() {
        var plane = [Float](repeating: 0, count: 9 * 9)
        plane[4 * 9 + 4] = 1
        plane.withUnsafeMutableBufferPointer { gaussianBlur($0.baseAddress!, height: 9, width: 9, sigma: 1) }
        #expect(abs(plane.reduce(0, +) - 1) < 1e-4)
        #expect(plane[4 * 9 + 4] < 0.2 && plane[4 * 9 + 5] > 0.05)
        #expect(plane[4 * 9 + 5] == plane[4 * 9 + 3] && plane[3 * 9 + 4] == plane[5 * 9 + 4])
    }

    @Test func blendMixes() {
        let black = RGBImage(width: 2, height: 1, fill: (0, 0, 0))
        let white = RGBImage(width: 2, height: 1, fill: (255, 255, 255))
        #expect(blend(white, over: black, amount: 0).pixels == black.pixels)
        #expect(blend(white, over: black, amount: 1).pixels == white.pixels)
        #expect(blend(white, over: black, amount: 0.5).pixels.allSatisfy { $0 == 128 })
    }
}
