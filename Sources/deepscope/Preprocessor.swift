import Daemon
import Foundation
import Imaging
import ModelIO

/// Still images into the model's input tensor, the way the live pipeline prepares frames
/// (`InputPreparer`: center crop, resize, channel order, `InputNormalizer`).
enum ImageFile {
    /// Decodes a PNG or JPEG; failures are bad input naming the file.
    static func decode(path: String) throws -> RGBImage {
        do { return try RGBImage(contentsOfFile: path) } catch { throw UserError(error.description) }
    }

    /// Writes `image` into `input` (NCHW, 3 × H × W floats) as the model's sidecar says.
    static func prepare(_ image: RGBImage, preprocessing: Preprocessing, into input: UnsafeMutableBufferPointer<Float>) throws {
        do throws(PipelineError) { try InputPreparer.prepare(image: image, preprocessing: preprocessing, into: input) } catch {
            throw UserError(error.description)
        }
    }
}
