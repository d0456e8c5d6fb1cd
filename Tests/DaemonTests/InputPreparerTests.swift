import Capture
import Daemon
import Imaging
import ModelIO
import Testing
import TestSupport

@Suite("Input preparation")
struct InputPreparerTests {
    @Test("gives bit for bit what Imaging's crop, resize and writeNCHW give", arguments: [
        ("bicubic", "RGB", 640, 480), ("bilinear", "BGR", 480, 640), ("bicubic", "RGB", 224, 224),
    ])
    func matchesImaging(resize: String, order: String, width: Int, height: Int) throws {
        var g = SplitMix64(seed: 42)
        let pixels = (0..<(width * height * 3)).map { _ in UInt8(truncatingIfNeeded: g.next()) }
        let spec = Preprocessing(inputSize: [224, 224], channelOrder: order, pixelRange: 255, mean: [127, 120, 110],
                                 std: [128, 60, 70], cropFraction: 0.875, resize: resize)
        let preparer = try InputPreparer(preprocessing: spec, frame: FrameGeometry(width: width, height: height),
                                         inputCount: 3 * 224 * 224)
        var ours = [Float](repeating: .nan, count: 3 * 224 * 224)
        pixels.withUnsafeBufferPointer { p in ours.withUnsafeMutableBufferPointer { preparer.prepare(p.baseAddress!, into: $0.baseAddress!) } }

        let image = RGBImage(width: width, height: height, pixels: pixels)
        let crop = PixelRect.centerSquare(width: width, height: height, fraction: 0.875)
        let resized = image.resized(width: 224, height: 224, filter: resize == "bicubic" ? .bicubic : .bilinear, crop: crop)
        var reference = [Float](repeating: 0, count: 3 * 224 * 224)
        reference.withUnsafeMutableBufferPointer {
            writeNCHW(resized, into: $0.baseAddress!, mean: spec.mean, std: spec.std, pixelRange: 255, bgr: order == "BGR")
        }
        #expect(ours == reference)
        #expect(Array(UnsafeBufferPointer(start: preparer.networkView, count: 224 * 224 * 3)) == resized.pixels)
        #expect(preparer.crop == crop)
    }

    @Test("unusable preprocessing specs are refused", arguments: [
        (Preprocessing(inputSize: [224]), 3 * 224 * 224, "is not [height, width]"),
        (Preprocessing(inputSize: [224, 224]), 1000, "takes 1000 input values"),
        (Preprocessing(inputSize: [8, 8], mean: [0, 0]), 192, "three means"),
        (Preprocessing(inputSize: [8, 8], std: [1, 0, 1]), 192, "non-zero deviations"),
        (Preprocessing(inputSize: [8, 8], cropFraction: 0), 192, "crop fraction"),
    ])
    func refused(spec: Preprocessing, count: Int, reason: String) {
        #expect {
            try InputPreparer(preprocessing: spec, frame: FrameGeometry(width: 32, height: 32), inputCount: count)
        } throws: { error in
            (error as? PipelineError)?.description.contains(reason) == true
        }
    }
}
