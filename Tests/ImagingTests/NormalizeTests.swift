import Imaging
import Testing

@Suite("NCHW normalisation")
struct NormalizeTests {
    /// 3 × 2 pixels with distinct values in every channel.
    static let image = RGBImage(width: 3, height: 2, pixels: [
        0, 128, 255,    10, 20, 30,     40, 50, 60,
        255, 0, 1,      100, 200, 250,  7, 8, 9,
    ])

    private func run(mean: [Float], std: [Float], pixelRange: Float, bgr: Bool) -> [Float] {
        var out = [Float](repeating: .nan, count: 3 * 6 + 1)
        out.withUnsafeMutableBufferPointer {
            writeNCHW(Self.image, into: $0.baseAddress!, mean: mean, std: std, pixelRange: pixelRange, bgr: bgr)
        }
        #expect(out[18].isNaN, "wrote past the end")
        return Array(out[..<18])
    }

    @Test func symmetricRangeGivesMinusOneToOne() {
        let out = run(mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5], pixelRange: 255, bgr: false)
        // Plane R: 0, 10, 40, 255, 100, 7.
        #expect(out[0] == -1)
        #expect(out[3] == 1)
        // Plane B starts at 12: 255 → 1.
        #expect(out[12] == 1)
        // Plane G, pixel (1, 1) = 200.
        let expected: Float = (200 - 127.5) / 127.5
        #expect(out[6 + 4] == expected)
    }

    @Test(arguments: [false, true])
    func layoutAndFormula(bgr: Bool) {
        let mean: [Float] = [0.485, 0.456, 0.406]
        let std: [Float] = [0.229, 0.224, 0.225]
        let out = run(mean: mean, std: std, pixelRange: 1, bgr: bgr)
        let scale = Float(1.0 / 255.0)
        for c in 0..<3 {
            let sourceChannel = bgr ? 2 - c : c
            for y in 0..<2 {
                for x in 0..<3 {
                    let pixel = Float(Self.image.pixels[(y * 3 + x) * 3 + sourceChannel])
                    let expected = (pixel * scale - mean[c]) / std[c]
                    #expect(out[c * 6 + y * 3 + x] == expected, "channel \(c) at (\(x), \(y))")
                }
            }
        }
    }

    @Test func caffeStyleBGRWithPixelRange255() {
        let mean: [Float] = [103.939, 116.779, 123.68]  // B, G, R
        let out = run(mean: mean, std: [1, 1, 1], pixelRange: 255, bgr: true)
        // Pixel (0, 0) = R 0, G 128, B 255.
        #expect(out[0] == 255 - 103.939)
        #expect(out[6] == 128 - 116.779)
        #expect(out[12] == 0 - 123.68)
    }

    @Test func pixelRangeTwo() {
        let out = run(mean: [1, 1, 1], std: [1, 1, 1], pixelRange: 2, bgr: false)
        #expect(out[0] == -1)   // R of pixel 0 is 0
        #expect(out[3] == 1)    // R of pixel 3 is 255
    }
}
