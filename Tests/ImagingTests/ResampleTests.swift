import Imaging
import Testing

/// One line of Fixtures/resize-cases.txt: Pillow's `im.crop(box).resize(size, filter)`.
struct PillowCase: CustomStringConvertible, Sendable {
    let file: String
    let filter: ResampleFilter
    let crop: PixelRect
    let width: Int
    let height: Int

    var description: String { file }

    static let all: [PillowCase] = {
        let text = String(decoding: Fixtures.bytes("resize-cases.txt"), as: UTF8.self)
        return text.split(separator: "\n").compactMap { line in
            if line.hasPrefix("#") { return nil }
            let f = line.split(separator: " ").map(String.init)
            let n = f[2...].map { Int($0)! }
            return PillowCase(file: f[0], filter: ResampleFilter(rawValue: f[1])!,
                              crop: PixelRect(x: n[0], y: n[1], width: n[2], height: n[3]), width: n[4], height: n[5])
        }
    }()
}

@Suite("Resampling")
struct ResampleTests {
    static let source = try! RGBImage(contentsOfFile: Fixtures.path("resize-source.png"))

    @Test func everyFixtureIsListed() {
        #expect(PillowCase.all.count == 24)
    }

    /// Pillow's 8-bit resampling is mirrored step by step, so the target is exact equality;
    /// the contract is a difference of at most 2 levels.
    @Test(arguments: PillowCase.all)
    func matchesPillow(_ reference: PillowCase) throws {
        let expected = try RGBImage(contentsOfFile: Fixtures.path(reference.file))
        #expect(expected.width == reference.width && expected.height == reference.height)
        let got = Self.source.resized(width: reference.width, height: reference.height,
                                      filter: reference.filter, crop: reference.crop)
        let difference = maxAbsDifference(got.pixels, expected.pixels)
        #expect(difference <= 2, "\(reference.file): max difference \(difference)")
        #expect(difference == 0, "\(reference.file): max difference \(difference)")
    }

    @Test func fusedCropEqualsCropThenResize() {
        let crop = PixelRect.centerSquare(width: Self.source.width, height: Self.source.height, fraction: 0.875)
        for filter in ResampleFilter.allCases {
            let fused = Self.source.resized(width: 24, height: 24, filter: filter, crop: crop)
            let separate = Self.source.cropped(to: crop).resized(width: 24, height: 24, filter: filter)
            #expect(fused == separate)
        }
    }

    @Test func stridedBuffersGiveTheSameResult() {
        let image = Self.source
        let expected = image.resized(width: 30, height: 21, filter: .bicubic)
        let padding = 5
        let sourceStride = image.width * 3 + padding
        var padded = [UInt8](repeating: 0xEE, count: image.height * sourceStride)
        for y in 0..<image.height {
            for i in 0..<(image.width * 3) { padded[y * sourceStride + i] = image.pixels[y * image.width * 3 + i] }
        }
        let outputStride = 30 * 3 + 7
        var out = [UInt8](repeating: 0xAB, count: 21 * outputStride)
        var resampler = Resampler(sourceWidth: image.width, sourceHeight: image.height,
                                  outputWidth: 30, outputHeight: 21, filter: .bicubic)
        padded.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                resampler.resample(src.baseAddress!, sourceRowBytes: sourceStride,
                                   into: dst.baseAddress!, outputRowBytes: outputStride)
            }
        }
        var rows: [UInt8] = []
        for y in 0..<21 {
            rows += out[y * outputStride ..< y * outputStride + 90]
            #expect(out[y * outputStride + 90 ..< (y + 1) * outputStride].allSatisfy { $0 == 0xAB })
        }
        #expect(rows == expected.pixels)
    }

    @Test func resamplerIsReusableAndKeepsTheOutputStorage() {
        let crop = PixelRect.centerSquare(width: Self.source.width, height: Self.source.height, fraction: 0.875)
        var resampler = Resampler(sourceWidth: Self.source.width, sourceHeight: Self.source.height, crop: crop,
                                  outputWidth: 32, outputHeight: 32, filter: .bicubic)
        var output = RGBImage(width: 32, height: 32)
        let before = output.pixels.withUnsafeBufferPointer { $0.baseAddress }
        resampler.resample(Self.source, into: &output)
        let after = output.pixels.withUnsafeBufferPointer { $0.baseAddress }
        #expect(before == after)
        let first = output
        resampler.resample(Self.source, into: &output)
        #expect(output == first)
        #expect(first == Self.source.resized(width: 32, height: 32, filter: .bicubic, crop: crop))
    }

    @Test func rgbaResizeFiltersEveryChannelAlike() {
        let opaque = Self.source.withOpaqueAlpha()
        for filter in ResampleFilter.allCases {
            let rgba = opaque.resized(width: 20, height: 50, filter: filter)
            let rgb = Self.source.resized(width: 20, height: 50, filter: filter)
            #expect(rgba == rgb.withOpaqueAlpha())
        }
    }

    @Test func constantImagesStayConstant() {
        let flat = RGBImage(width: 31, height: 17, fill: (200, 7, 255))
        for filter in ResampleFilter.allCases {
            for (w, h) in [(5, 3), (64, 40), (31, 9), (2, 17), (1, 1)] {
                #expect(flat.resized(width: w, height: h, filter: filter) == RGBImage(width: w, height: h, fill: (200, 7, 255)))
            }
        }
    }

    @Test func sameSizeIsACopy() {
        #expect(Self.source.resized(width: Self.source.width, height: Self.source.height) == Self.source)
        let rect = PixelRect(x: 3, y: 4, width: 10, height: 9)
        #expect(Self.source.resized(width: 10, height: 9, filter: .bilinear, crop: rect) == Self.source.cropped(to: rect))
    }

    @Test func filterShapes() {
        #expect(ResampleFilter.bicubic.weight(0) == 1)
        #expect(ResampleFilter.bicubic.weight(1) == 0)
        #expect(ResampleFilter.bicubic.weight(2) == 0)
        #expect(ResampleFilter.bicubic.weight(0.5) == 0.5625)
        #expect(ResampleFilter.bicubic.weight(-1.5) == -0.0625)
        #expect(ResampleFilter.bilinear.weight(0.25) == 0.75)
        #expect(ResampleFilter.bilinear.weight(-1) == 0)
    }
}

@Suite("Centre crop")
struct CenterCropTests {
    @Test(arguments: [
        // width, height, fraction → x, y, side
        (67, 49, 0.875, 12, 3, 43),
        (5, 3, 1.0, 1, 0, 3),
        (4, 7, 1.0, 0, 1, 4),
        (7, 7, 0.5, 1, 1, 4),     // 3.5 rounds half up to 4; (7 − 4) / 2 = 1
        (10, 9, 0.875, 1, 0, 8),  // 7.875 → 8
        (1, 1, 0.1, 0, 0, 1),     // never empty
        (640, 480, 0.875, 110, 30, 420),
        (482, 641, 0.875, 30, 109, 422),  // 421.75 → 422; the odd 219 rounds down to 109
        (225, 224, 224.0 / 256.0, 14, 14, 196),
    ] as [(Int, Int, Double, Int, Int, Int)])
    func geometry(_ c: (Int, Int, Double, Int, Int, Int)) {
        let rect = PixelRect.centerSquare(width: c.0, height: c.1, fraction: c.2)
        #expect(rect == PixelRect(x: c.3, y: c.4, width: c.5, height: c.5))
        #expect(rect.fits(width: c.0, height: c.1))
    }

    @Test func centerCroppedTakesThosePixels() {
        let image = Patterns.rgbImage(width: 9, height: 6)
        let crop = image.centerCropped(fraction: 0.5)  // side 3, at (3, 1)
        #expect(crop.width == 3 && crop.height == 3)
        for y in 0..<3 {
            for x in 0..<3 {
                let (r, g, b) = Patterns.rgb(x + 3, y + 1)
                #expect(crop[x, y] == (r, g, b))
            }
        }
    }
}
