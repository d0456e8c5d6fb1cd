// Camera frame → network input, planned once per (frame size, model) pair.

import Capture
import Imaging
import ModelIO
import Visualization

/// A problem with the pipeline's configuration; `description` is one sentence.
public struct PipelineError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}

/// Writes packed RGB frames of one size into a network's NCHW input as the model's preprocessing
/// says: centre square crop of `cropFraction` of the shorter side, resize to the input size
/// (bicubic or bilinear, antialiased, exactly as Pillow), channel order, normalization (through
/// Imaging's `InputNormalizer`). The live pipeline prepares every frame with one; `classify` and
/// `render` prepare a still image with `prepare(image:…)`, so all three give the network the same
/// input for the same pixels.
///
/// The live window may switch two things per frame: `stretch` (the whole frame squeezed into the
/// input instead of the centre crop) and `mirror` (left and right swapped, as a webcam user expects).
///
/// The resamplers' weights (crop and stretch), the resized image and the normalizer's table are
/// made by `init`; `prepare` allocates nothing. Use one preparer from one thread.
public final class InputPreparer: @unchecked Sendable {
    public let preprocessing: Preprocessing
    public let frame: FrameGeometry
    /// The network input's height and width.
    public let inputHeight: Int
    public let inputWidth: Int
    /// The part of each frame that becomes the input (when not stretching).
    public let crop: PixelRect
    /// Squeeze the whole frame into the input instead of cropping its centre.
    public var stretch = false
    /// Swap left and right.
    public var mirror = false

    private var resampler: Resampler
    private var stretcher: Resampler
    private let resized: UnsafeMutablePointer<UInt8>
    private let normalizer: InputNormalizer

    /// - Parameters:
    ///   - preprocessing: the model's preprocessing spec (valid by construction: the sidecar parser
    ///     checked it).
    ///   - frame: the size of the frames to prepare.
    ///   - inputCount: the number of floats in the network input (checked against 3 × H × W).
    /// - Throws: `PipelineError` when the spec does not match the input.
    public init(preprocessing: Preprocessing, frame: FrameGeometry, inputCount: Int) throws(PipelineError) {
        let spec = preprocessing
        let (h, w) = (spec.inputSize.height, spec.inputSize.width)
        guard h > 0, w > 0, inputCount == spec.inputSize.valueCount else {
            throw PipelineError("The model takes \(inputCount) input values, not an RGB image of \(h)×\(w).")
        }
        self.preprocessing = spec
        self.frame = frame
        inputHeight = h
        inputWidth = w
        crop = PixelRect.centerSquare(width: frame.width, height: frame.height, fraction: Double(spec.cropFraction))
        let filter = spec.resize.filter
        resampler = Resampler(sourceWidth: frame.width, sourceHeight: frame.height, crop: crop,
                              outputWidth: w, outputHeight: h, filter: filter, channels: 3)
        stretcher = Resampler(sourceWidth: frame.width, sourceHeight: frame.height,
                              crop: PixelRect(x: 0, y: 0, width: frame.width, height: frame.height),
                              outputWidth: w, outputHeight: h, filter: filter, channels: 3)
        resized = .allocate(capacity: h * w * 3)
        resized.initialize(repeating: 0, count: h * w * 3)
        normalizer = spec.normalizer
    }

    deinit {
        resized.deallocate()
    }

    /// Prepares one still image (any size) into `input`: what `classify` and `render` do.
    /// - Throws: `PipelineError` when the model's input is not an RGB image of the spec's size.
    public static func prepare(image: RGBImage, preprocessing: Preprocessing,
                               into input: UnsafeMutableBufferPointer<Float>) throws(PipelineError) {
        guard image.width > 0 && image.height > 0 else { throw PipelineError("The image is empty.") }
        let preparer = try InputPreparer(preprocessing: preprocessing, frame: FrameGeometry(width: image.width, height: image.height),
                                         inputCount: input.count)
        image.pixels.withUnsafeBufferPointer { preparer.prepare($0.baseAddress!, into: input.baseAddress!) }
    }

    /// The cropped and resized frame of the last `prepare` (`inputHeight × inputWidth` packed RGB):
    /// the image as the network sees it, before normalization.
    public var networkView: UnsafePointer<UInt8> { UnsafePointer(resized) }

    /// Crops, resizes and normalizes one frame into `input` (3 × H × W floats).
    public func prepare(_ pixels: UnsafePointer<UInt8>, into input: UnsafeMutablePointer<Float>) {
        if stretch {
            stretcher.resample(pixels, into: resized)
        } else {
            resampler.resample(pixels, into: resized)
        }
        if mirror { mirrorRows() }
        normalizer.write(pixels: resized, width: inputWidth, height: inputHeight, into: input)
    }

    /// Reverses every row of the resized image in place.
    private func mirrorRows() {
        let w = inputWidth
        for y in 0..<inputHeight {
            let row = resized + y * w * 3
            var a = 0, b = w - 1
            while a < b {
                let pa = row + a * 3, pb = row + b * 3
                let (r, g, bl) = (pa[0], pa[1], pa[2])
                pa[0] = pb[0]; pa[1] = pb[1]; pa[2] = pb[2]
                pb[0] = r; pb[1] = g; pb[2] = bl
                a += 1; b -= 1
            }
        }
    }
}

// MARK: - The typed spec, as Imaging and Visualization take it

extension ResizeFilter {
    /// Imaging's resampling filter.
    public var filter: ResampleFilter { self == .bilinear ? .bilinear : .bicubic }
}

extension Preprocessing {
    /// The normalizer of this spec (mean, std, pixel range, channel order).
    public var normalizer: InputNormalizer {
        InputNormalizer(mean: mean.array, std: std.array, pixelRange: pixelRange, bgr: channelOrder == .bgr)
    }

    /// How the input tensor maps back to pixels, for the window's input pane.
    public var encoding: InputEncoding {
        InputEncoding(mean: mean.array, std: std.array, pixelRange: pixelRange, bgr: channelOrder == .bgr)
    }
}
