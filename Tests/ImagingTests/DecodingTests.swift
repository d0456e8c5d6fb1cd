#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Imaging
import Testing

@Suite("Decoding")
struct DecodingTests {
    /// Checks every pixel of a decoded 13×9 fixture against `expected`.
    private func expectPixels(_ image: RGBImage, _ name: String,
                              _ expected: (Int, Int) -> (UInt8, UInt8, UInt8)) {
        #expect(image.width == Patterns.width && image.height == Patterns.height, "\(name) size")
        guard image.width == Patterns.width && image.height == Patterns.height else { return }
        var wrong = 0
        for y in 0..<image.height {
            for x in 0..<image.width {
                let got = image[x, y], want = expected(x, y)
                if got.r != want.0 || got.g != want.1 || got.b != want.2 { wrong += 1 }
            }
        }
        #expect(wrong == 0, "\(name): \(wrong) pixels differ")
    }

    @Test func grayPNGIsReplicatedIntoRGB() throws {
        let image = try RGBImage(contentsOfFile: Fixtures.path("gray.png"))
        expectPixels(image, "gray.png") { x, y in (Patterns.gray(x, y), Patterns.gray(x, y), Patterns.gray(x, y)) }
    }

    @Test func sixteenBitGrayPNGIsScaledToEightBits() throws {
        let image = try RGBImage(contentsOfFile: Fixtures.path("gray16.png"))
        expectPixels(image, "gray16.png") { x, y in (Patterns.gray(x, y), Patterns.gray(x, y), Patterns.gray(x, y)) }
    }

    @Test func grayAlphaPNGDropsAlpha() throws {
        let image = try RGBImage(contentsOfFile: Fixtures.path("gray-alpha.png"))
        expectPixels(image, "gray-alpha.png") { x, y in (Patterns.gray(x, y), Patterns.gray(x, y), Patterns.gray(x, y)) }
    }

    @Test func rgbPNG() throws {
        let image = try RGBImage(contentsOfFile: Fixtures.path("rgb.png"))
        expectPixels(image, "rgb.png", Patterns.rgb)
    }

    @Test func sixteenBitRGBPNGIsScaledToEightBits() throws {
        let image = try RGBImage(contentsOfFile: Fixtures.path("rgb16.png"))
        expectPixels(image, "rgb16.png", Patterns.rgb)
    }

    @Test func rgbaPNGDropsAlphaWithoutCompositing() throws {
        // Some pixels have alpha 0: compositing would turn them black.
        let image = try RGBImage(contentsOfFile: Fixtures.path("rgba.png"))
        expectPixels(image, "rgba.png", Patterns.rgb)
    }

    @Test func rgbaPNGKeepsAlphaAsRGBAImage() throws {
        let image = try RGBAImage(contentsOfFile: Fixtures.path("rgba.png"))
        #expect(image.width == Patterns.width && image.height == Patterns.height)
        var wrong = 0
        for y in 0..<image.height {
            for x in 0..<image.width {
                let p = image[x, y], (r, g, b) = Patterns.rgb(x, y)
                if p.r != r || p.g != g || p.b != b || p.a != Patterns.alpha(x, y) { wrong += 1 }
            }
        }
        #expect(wrong == 0)
    }

    @Test func palettePNGWithTransparencyGivesPaletteColours() throws {
        let image = try RGBImage(contentsOfFile: Fixtures.path("palette.png"))
        expectPixels(image, "palette.png") { x, y in Patterns.palette[Patterns.paletteIndex(x, y)] }
    }

    @Test(arguments: ["photo.jpg", "gray.jpg"])
    func jpegMatchesPillowsDecoding(name: String) throws {
        let image = try RGBImage(contentsOfFile: Fixtures.path(name))
        let expected = Fixtures.bytes(name + ".rgb")
        #expect(image.width == 48 && image.height == 32)
        #expect(image.pixels.count == expected.count)
        if image.pixels.count == expected.count {
            // Both use libjpeg-turbo's accurate integer IDCT and fancy upsampling.
            #expect(maxAbsDifference(image.pixels, expected) <= 1)
        }
    }

    @Test func jpegAsRGBAIsOpaque() throws {
        let rgb = try RGBImage(contentsOfFile: Fixtures.path("photo.jpg"))
        let rgba = try RGBAImage(contentsOfFile: Fixtures.path("photo.jpg"))
        #expect(rgba == rgb.withOpaqueAlpha())
    }

    @Test(arguments: ["rgb.png", "palette.png", "photo.jpg", "gray.jpg"])
    func memoryDecodingEqualsFileDecoding(name: String) throws {
        let fromFile = try RGBImage(contentsOfFile: Fixtures.path(name))
        let fromMemory = try RGBImage(decoding: Fixtures.bytes(name), name: name)
        #expect(fromFile == fromMemory)
    }

    @Test func formatComesFromContentNotExtension() throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        writeBytes(Fixtures.bytes("rgb.png"), to: scratch.file("actually-png.jpg"))
        writeBytes(Fixtures.bytes("photo.jpg"), to: scratch.file("actually-jpeg.png"))
        #expect(try ImageFormat.detect(fileAt: scratch.file("actually-png.jpg")) == .png)
        #expect(try ImageFormat.detect(fileAt: scratch.file("actually-jpeg.png")) == .jpeg)
        #expect(try RGBImage(contentsOfFile: scratch.file("actually-png.jpg"))
                == RGBImage(contentsOfFile: Fixtures.path("rgb.png")))
        #expect(try RGBImage(contentsOfFile: scratch.file("actually-jpeg.png"))
                == RGBImage(contentsOfFile: Fixtures.path("photo.jpg")))
    }

    @Test func jpegDecoderReusesTheCallersStorage() throws {
        let decoder = JPEGDecoder()
        let bytes = Fixtures.bytes("photo.jpg")
        var frame = RGBImage(width: 48, height: 32)
        let before = frame.pixels.withUnsafeBufferPointer { $0.baseAddress }
        for _ in 0..<3 {
            try bytes.withUnsafeBytes { try decoder.decode($0, name: "frame", into: &frame) }
        }
        let after = frame.pixels.withUnsafeBufferPointer { $0.baseAddress }
        #expect(before == after)
        #expect(frame == (try RGBImage(contentsOfFile: Fixtures.path("photo.jpg"))))

        // A different size reshapes the image.
        var small = RGBImage(width: 1, height: 1)
        try Fixtures.bytes("gray.jpg").withUnsafeBytes { try decoder.decode($0, name: "frame", into: &small) }
        #expect(small.width == 48 && small.height == 32)
    }

    @Test(arguments: ["rgb.png", "photo.jpg"])
    func decodesFromAPipe(name: String) throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let fifo = scratch.file("pipe")
        #expect(mkfifo(fifo, 0o600) == 0)
        let bytes = Fixtures.bytes(name)
        // A thread of its own: opening a pipe blocks until both ends are open.
        Thread.detachNewThread {
            let fd = open(fifo, O_WRONLY)
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
        let image = try RGBImage(contentsOfFile: fifo)
        #expect(image == (try RGBImage(contentsOfFile: Fixtures.path(name))))
    }
}
