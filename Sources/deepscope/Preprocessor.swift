import Foundation
import Imaging
import ModelIO

/// Turns an image into the model's input tensor as its sidecar says: center crop, resize,
/// channel order and normalization.
struct Preprocessor {
    let spec: Preprocessing

    init(_ spec: Preprocessing) { self.spec = spec }

    /// Writes `image` into `input` (NCHW, 3 × H × W floats).
    func write(_ image: RGBImage, into input: UnsafeMutableBufferPointer<Float>) throws {
        guard spec.inputSize.count == 2 else { throw UserError("The model's input size \(spec.inputSize) is not [height, width].") }
        let (h, w) = (spec.inputSize[0], spec.inputSize[1])
        guard input.count == 3 * h * w else {
            throw UserError("The model takes \(input.count) input values, not an RGB image of \(h)×\(w).")
        }
        guard spec.cropFraction > 0 && spec.cropFraction <= 1, spec.mean.count == 3, spec.std.count == 3,
              spec.std.allSatisfy({ $0 != 0 }) else {
            throw UserError("The model's preprocessing needs a crop fraction in (0, 1] and three means and non-zero deviations.")
        }
        guard image.width > 0 && image.height > 0 else { throw UserError("The image is empty.") }
        let crop = PixelRect.centerSquare(width: image.width, height: image.height, fraction: Double(spec.cropFraction))
        let filter: ResampleFilter = spec.resize == "bilinear" ? .bilinear : .bicubic
        let resized = image.resized(width: w, height: h, filter: filter, crop: crop)
        writeNCHW(resized, into: input.baseAddress!, mean: spec.mean, std: spec.std,
                  pixelRange: spec.pixelRange, bgr: spec.channelOrder.uppercased() == "BGR")
    }
}

enum ImageFile {
    /// Decodes a PNG or JPEG; failures are bad input naming the file.
    static func decode(path: String) throws -> RGBImage {
        do { return try RGBImage(contentsOfFile: path) } catch { throw UserError(error.description) }
    }
}
