import Capture
import Foundation
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
        let spec = Preprocessing(inputSize: [224, 224], channelOrder: try #require(ChannelOrder(rawValue: order)), pixelRange: 255,
                                 mean: [127, 120, 110], std: [128, 60, 70], cropFraction: 0.875,
                                 resize: try #require(ResizeFilter(rawValue: resize)))
        let preparer = try InputPreparer(preprocessing: spec, frame: FrameGeometry(width: width, height: height),
                                         inputCount: 3 * 224 * 224)
        var ours = [Float](repeating: .nan, count: 3 * 224 * 224)
        pixels.withUnsafeBufferPointer { p in ours.withUnsafeMutableBufferPointer { preparer.prepare(p.baseAddress!, into: $0.baseAddress!) } }

        let image = RGBImage(width: width, height: height, pixels: pixels)
        let crop = PixelRect.centerSquare(width: width, height: height, fraction: 0.875)
        let resized = image.resized(width: 224, height: 224, filter: resize == "bicubic" ? .bicubic : .bilinear, crop: crop)
        var reference = [Float](repeating: 0, count: 3 * 224 * 224)
        reference.withUnsafeMutableBufferPointer {
            writeNCHW(resized, into: $0.baseAddress!, mean: spec.mean.array, std: spec.std.array, pixelRange: 255, bgr: order == "BGR")
        }
        #expect(ours == reference)
        #expect(Array(UnsafeBufferPointer(start: preparer.networkView, count: 224 * 224 * 3)) == resized.pixels)
        #expect(preparer.crop == crop)
    }

    @Test("a spec whose size does not match the model's input is refused in one sentence", arguments: [
        (Preprocessing(inputSize: [224, 224]), 1000, "takes 1000 input values"),
        (Preprocessing(inputSize: [8, 8]), 3 * 8 * 9, "takes 216 input values, not an RGB image of 8×8"),
    ])
    func refused(spec: Preprocessing, count: Int, reason: String) {
        #expect {
            try InputPreparer(preprocessing: spec, frame: FrameGeometry(width: 32, height: 32), inputCount: count)
        } throws: { error in
            (error as? PipelineError)?.description.contains(reason) == true
        }
    }

    @Test("a still image goes in exactly as a frame of its size does")
    func stillImageMatchesFrames() throws {
        var g = SplitMix64(seed: 7)
        let image = RGBImage(width: 50, height: 30, pixels: (0..<(50 * 30 * 3)).map { _ in UInt8(truncatingIfNeeded: g.next()) })
        let spec = Preprocessing(inputSize: [16, 16], channelOrder: .bgr, pixelRange: 255, mean: [1, 2, 3], std: [4, 5, 6])
        var still = [Float](repeating: .nan, count: 3 * 16 * 16)
        try still.withUnsafeMutableBufferPointer { try InputPreparer.prepare(image: image, preprocessing: spec, into: $0) }
        let preparer = try InputPreparer(preprocessing: spec, frame: FrameGeometry(width: 50, height: 30), inputCount: 3 * 16 * 16)
        var frame = [Float](repeating: .nan, count: 3 * 16 * 16)
        image.pixels.withUnsafeBufferPointer { p in frame.withUnsafeMutableBufferPointer { preparer.prepare(p.baseAddress!, into: $0.baseAddress!) } }
        #expect(still == frame && !still.contains(where: \.isNaN))
    }
}

/// The sidecar is parsed once into types: what cannot be represented is refused there, naming the
/// file and the key.
@Suite("Preprocessing parser")
struct PreprocessingParserTests {
    @Test("errors name the sidecar file and the key at fault", arguments: [
        (#"{"channel_order": "GRB"}"#, "channel_order", "must be \"RGB\" or \"BGR\""),
        (#"{"resize": "nearest"}"#, "resize", "must be \"bicubic\" or \"bilinear\""),
        (#"{"mean": [0, 0]}"#, "mean", "must be an array of 3 numbers"),
        (#"{"std": [1, 0, 1]}"#, "std", "must hold three positive numbers"),
        (#"{"crop_fraction": 0}"#, "crop_fraction", "must be greater than 0 and at most 1"),
        (#"{"input_size": [224]}"#, "input_size", "must be an array of 2 numbers"),
        (#"{"pixel_range": -1}"#, "pixel_range", "must be positive (255 or 1)"),
    ])
    func errors(json: String, key: String, reason: String) {
        #expect(throws: ModelError.invalidSidecar(path: "/models/m.json", key: key, reason: reason)) {
            try Preprocessing.parse(json: Data(json.utf8), path: "/models/m.json", defaultInputSize: [224, 224])
        }
        do {
            _ = try Preprocessing.parse(json: Data(json.utf8), path: "/models/m.json", defaultInputSize: [224, 224])
        } catch {
            let text = String(describing: error)
            #expect(text.contains("/models/m.json") && text.contains(key), "\(text)")
        }
    }

    @Test("what it gives is typed: enums for order and resize, three values, a size")
    func typed() throws {
        let p = try Preprocessing.parse(json: Data(#"{"channel_order": "bgr", "resize": "Bicubic", "mean": [1, 2, 3], "input_size": [5, 7]}"#.utf8),
                                        path: "m.json", defaultInputSize: [1, 1])
        #expect(p.channelOrder == .bgr && p.resize == .bicubic)
        #expect(p.mean[0] == 1 && p.mean[1] == 2 && p.mean[2] == 3)
        #expect(p.inputSize == InputSize(height: 5, width: 7) && p.inputSize.valueCount == 105)
        #expect(p.channelOrder.sourceChannel(0) == 2 && ChannelOrder.rgb.sourceChannel(0) == 0)
    }
}
