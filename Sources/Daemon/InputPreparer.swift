// Camera frame → network input, planned once per (frame size, model) pair.

import Capture
import Imaging
import ModelIO

/// A problem with the pipeline's configuration; `description` is one sentence.
public struct PipelineError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}

/// Writes packed RGB frames of one size into a network's NCHW input as the model's preprocessing
/// says: centre square crop of `cropFraction` of the shorter side, resize to the input size
/// (bicubic or bilinear, antialiased, exactly as Pillow), channel order, normalization.
///
/// The live window may switch two things per frame: `stretch` (the whole frame squeezed into the
/// input instead of the centre crop) and `mirror` (left and right swapped, as a webcam user expects).
///
/// The resamplers' weights (crop and stretch), the resized image and the normalization table (every
/// byte value's result per channel, computed as `writeNCHW` computes it) are made by `init`;
/// `prepare` allocates nothing. Use one preparer from one thread.
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
    private let bgr: Bool
    /// 3 × 256 floats: output channel c's value for byte v at [c · 256 + v].
    private let table: UnsafeMutablePointer<Float>

    /// - Parameters:
    ///   - preprocessing: the model's preprocessing spec.
    ///   - frame: the size of the frames to prepare.
    ///   - inputCount: the number of floats in the network input (checked against 3 × H × W).
    /// - Throws: `PipelineError` when the spec is unusable or does not match the input.
    public init(preprocessing: Preprocessing, frame: FrameGeometry, inputCount: Int) throws(PipelineError) {
        let spec = preprocessing
        guard spec.inputSize.count == 2, spec.inputSize[0] > 0, spec.inputSize[1] > 0 else {
            throw PipelineError("The model's input size \(spec.inputSize) is not [height, width].")
        }
        let (h, w) = (spec.inputSize[0], spec.inputSize[1])
        guard inputCount == 3 * h * w else {
            throw PipelineError("The model takes \(inputCount) input values, not an RGB image of \(h)×\(w).")
        }
        guard spec.cropFraction > 0 && spec.cropFraction <= 1, spec.mean.count == 3, spec.std.count == 3,
              spec.std.allSatisfy({ $0 != 0 }) else {
            throw PipelineError("The model's preprocessing needs a crop fraction in (0, 1], three means and three non-zero deviations.")
        }
        self.preprocessing = spec
        self.frame = frame
        inputHeight = h
        inputWidth = w
        crop = PixelRect.centerSquare(width: frame.width, height: frame.height, fraction: Double(spec.cropFraction))
        let filter: ResampleFilter = spec.resize == "bilinear" ? .bilinear : .bicubic
        resampler = Resampler(sourceWidth: frame.width, sourceHeight: frame.height, crop: crop,
                              outputWidth: w, outputHeight: h, filter: filter, channels: 3)
        stretcher = Resampler(sourceWidth: frame.width, sourceHeight: frame.height,
                              crop: PixelRect(x: 0, y: 0, width: frame.width, height: frame.height),
                              outputWidth: w, outputHeight: h, filter: filter, channels: 3)
        resized = .allocate(capacity: h * w * 3)
        resized.initialize(repeating: 0, count: h * w * 3)
        bgr = spec.channelOrder.uppercased() == "BGR"
        // The same arithmetic as Imaging's writeNCHW, so the input is bit for bit what `classify` makes.
        table = .allocate(capacity: 3 * 256)
        let scale = Float(Double(spec.pixelRange) / 255.0)
        for c in 0..<3 {
            for v in 0..<256 {
                table[c * 256 + v] = (Float(v) * scale - spec.mean[c]) / spec.std[c]
            }
        }
    }

    deinit {
        resized.deallocate()
        table.deallocate()
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
        let plane = inputWidth * inputHeight
        let t0 = table, t1 = table + 256, t2 = table + 512
        // Output channel c reads source channel s(c): R, G, B, or B, G, R.
        let s0 = bgr ? 2 : 0, s2 = bgr ? 0 : 2
        let d0 = input, d1 = input + plane, d2 = input + 2 * plane
        for i in 0..<plane {
            let p = resized + i * 3
            d0[i] = t0[Int(p[s0])]
            d1[i] = t1[Int(p[1])]
            d2[i] = t2[Int(p[s2])]
        }
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
