// Writing 8-bit RGB and RGBA PNG files with libpng's simplified API, atomically.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CPNG

extension InterleavedImage {
    /// Writes the image as an 8-bit RGB or RGBA (straight alpha) PNG, atomically (see
    /// `writeFileAtomically`).
    /// - Parameters:
    ///   - path: the file to create or replace.
    ///   - fast: favour speed over size when compressing.
    public func writePNG(to path: String, fast: Bool = false) throws(ImageError) {
        let result = pixels.withUnsafeBufferPointer { buffer in
            Result { () throws(ImageError) in
                try Imaging.writePNG(pixels: buffer.baseAddress!, width: width, height: height,
                                     channels: Self.channels, to: path, fast: fast)
            }
        }
        try result.get()
    }
}

/// Writes interleaved 8-bit pixels as a PNG file, atomically.
/// - Parameters:
///   - pixels: `height` rows of `width * channels` bytes, top row first.
///   - channels: 3 (RGB) or 4 (RGBA, straight alpha).
///   - path: the file to create or replace; on failure it is left as it was.
///   - fast: favour speed over size when compressing.
public func writePNG(pixels: UnsafePointer<UInt8>, width: Int, height: Int, channels: Int,
                     to path: String, fast: Bool = false) throws(ImageError) {
    precondition(channels == 3 || channels == 4, "PNG writing takes 3 or 4 channels, not \(channels)")
    guard width > 0, height > 0 else {
        throw .writeFailed(path: path, reason: "an image of \(width)×\(height) pixels cannot be stored as PNG")
    }
    guard width <= Int(Int32.max) / channels, height <= Int(Int32.max) else {
        throw .writeFailed(path: path, reason: "an image of \(width)×\(height) pixels is too large for PNG")
    }
    try writeFileAtomically(path) { (stream) throws(ImageError) in
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = UInt32(PNG_FORMAT_FLAG_COLOR) | (channels == 4 ? UInt32(PNG_FORMAT_FLAG_ALPHA) : 0)
        image.flags = fast ? UInt32(PNG_IMAGE_FLAG_FAST) : 0
        defer { png_image_free(&image) }
        if png_image_write_to_stdio(&image, stream, 0, pixels, Int32(width * channels), nil) == 0 {
            throw .writeFailed(path: path, reason: pngMessage(image))
        }
    }
}
