import Capture
import Imaging
import Testing

@Suite("Pixel conversion and fitting")
struct PixelConversionTests {
    @Test("RGB24 rows with padding are packed; BGR24 is swapped; mirroring reverses each row")
    func rgbAndBgr() {
        // Two rows of three pixels, 4 bytes of padding per row.
        var source: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 0xAA, 0xAA, 0xAA, 0xAA,
                               11, 12, 13, 14, 15, 16, 17, 18, 19, 0xAA, 0xAA, 0xAA, 0xAA]
        var out = [UInt8](repeating: 0, count: 18)
        convertToRGB(.rgb24, source: &source, sourceRowBytes: 13, width: 3, height: 2, into: &out, mirror: false)
        #expect(out == [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19])
        convertToRGB(.bgr24, source: &source, sourceRowBytes: 13, width: 3, height: 2, into: &out, mirror: false)
        #expect(out == [3, 2, 1, 6, 5, 4, 9, 8, 7, 13, 12, 11, 16, 15, 14, 19, 18, 17])
        convertToRGB(.rgb24, source: &source, sourceRowBytes: 13, width: 3, height: 2, into: &out, mirror: true)
        #expect(out == [7, 8, 9, 4, 5, 6, 1, 2, 3, 17, 18, 19, 14, 15, 16, 11, 12, 13])
        convertToRGB(.bgr24, source: &source, sourceRowBytes: 13, width: 3, height: 2, into: &out, mirror: true)
        #expect(out == [9, 8, 7, 6, 5, 4, 3, 2, 1, 19, 18, 17, 16, 15, 14, 13, 12, 11])
    }

    @Test("YUYV follows BT.601 limited range: black, white, grey and the primaries")
    func yuyv() {
        func convert(_ y: UInt8, _ u: UInt8, _ v: UInt8) -> (Int, Int, Int) {
            var raw: [UInt8] = [y, u, y, v]
            var rgb = [UInt8](repeating: 0, count: 6)
            convertToRGB(.yuyv, source: &raw, sourceRowBytes: 4, width: 2, height: 1, into: &rgb, mirror: false)
            #expect(rgb[0...2] == rgb[3...5])
            return (Int(rgb[0]), Int(rgb[1]), Int(rgb[2]))
        }
        func near(_ a: (Int, Int, Int), _ b: (Int, Int, Int)) -> Bool {
            abs(a.0 - b.0) <= 2 && abs(a.1 - b.1) <= 2 && abs(a.2 - b.2) <= 2
        }
        #expect(convert(16, 128, 128) == (0, 0, 0))
        #expect(convert(235, 128, 128) == (255, 255, 255))
        #expect(near(convert(126, 128, 128), (128, 128, 128)))
        #expect(near(convert(81, 90, 240), (255, 0, 0)))
        #expect(near(convert(145, 54, 34), (0, 255, 0)))
        #expect(near(convert(41, 240, 110), (0, 0, 255)))
    }

    @Test("YUYV with an odd width converts the last pixel from its pair")
    func yuyvOddWidth() {
        var raw: [UInt8] = [16, 128, 235, 128, 235, 128, 16, 128]
        var rgb = [UInt8](repeating: 7, count: 9)
        convertToRGB(.yuyv, source: &raw, sourceRowBytes: 8, width: 3, height: 1, into: &rgb, mirror: false)
        #expect(rgb == [0, 0, 0, 255, 255, 255, 255, 255, 255])
    }

    @Test("cover scaling keeps the aspect ratio and crops the excess evenly")
    func cover() {
        let wide = coverScaling(source: FrameGeometry(width: 1920, height: 1080), target: FrameGeometry(width: 640, height: 480))
        #expect(wide.scaled == FrameGeometry(width: 853, height: 480))
        #expect(wide.crop == (106, 0, 640, 480))
        let tall = coverScaling(source: FrameGeometry(width: 480, height: 640), target: FrameGeometry(width: 640, height: 480))
        #expect(tall.scaled == FrameGeometry(width: 640, height: 853))
        let same = coverScaling(source: FrameGeometry(width: 320, height: 240), target: FrameGeometry(width: 640, height: 480))
        #expect(same.scaled == FrameGeometry(width: 640, height: 480) && same.crop == (0, 0, 640, 480))
        #expect(aspectCrop(source: FrameGeometry(width: 1920, height: 1080), target: FrameGeometry(width: 640, height: 480))
                == PixelRect(x: 240, y: 0, width: 1440, height: 1080))
        #expect(aspectCrop(source: FrameGeometry(width: 100, height: 100), target: FrameGeometry(width: 200, height: 100))
                == PixelRect(x: 0, y: 25, width: 100, height: 50))
    }

    @Test("the fitter passes equal sizes through and resamples others as Imaging does")
    func fitter() {
        let source = FrameGeometry(width: 40, height: 20), target = FrameGeometry(width: 10, height: 10)
        var pixels = [UInt8](repeating: 0, count: source.byteCount)
        for i in pixels.indices { pixels[i] = UInt8((i * 37) % 256) }
        var fitter = FrameFitter(source: source, target: target)
        #expect(!fitter.isIdentity)
        var out = [UInt8](repeating: 0, count: target.byteCount)
        fitter.fit(pixels, into: &out)
        let image = RGBImage(width: 40, height: 20, pixels: pixels)
        let expected = image.resized(width: 10, height: 10, filter: .bilinear, crop: PixelRect(x: 10, y: 0, width: 20, height: 20))
        #expect(out == expected.pixels)
        var identity = FrameFitter(source: source, target: source)
        #expect(identity.isIdentity)
        var copy = [UInt8](repeating: 0, count: source.byteCount)
        identity.fit(pixels, into: &copy)
        #expect(copy == pixels)
    }
}
