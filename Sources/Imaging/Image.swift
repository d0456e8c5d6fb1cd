// In-memory 8-bit images: RGB for camera frames and model inputs, RGBA for rendered views.

/// An 8-bit RGB image, rows top to bottom, pixels interleaved `R G B R G B …`.
///
/// `pixels.count == width * height * 3` always holds for images made by this module; code that
/// replaces `pixels` by hand must keep it.
public struct RGBImage: Sendable, Equatable {
    /// Bytes per pixel.
    public static let channels = 3

    public private(set) var width: Int
    public private(set) var height: Int
    /// Interleaved RGB samples, `(y * width + x) * 3 + channel`.
    public var pixels: [UInt8]

    /// Wraps existing samples.
    /// - Parameters:
    ///   - width: columns, ≥ 0.
    ///   - height: rows, ≥ 0.
    ///   - pixels: `width * height * 3` interleaved RGB bytes.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0, "negative image size \(width)×\(height)")
        precondition(pixels.count == width * height * 3,
                     "RGB image \(width)×\(height) needs \(width * height * 3) bytes, got \(pixels.count)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// An image filled with one colour (black by default).
    public init(width: Int, height: Int, fill: (r: UInt8, g: UInt8, b: UInt8) = (0, 0, 0)) {
        precondition(width >= 0 && height >= 0, "negative image size \(width)×\(height)")
        var pixels = [UInt8](repeating: fill.r, count: width * height * 3)
        if fill.g != fill.r || fill.b != fill.r {
            var i = 0
            while i < pixels.count {
                pixels[i + 1] = fill.g
                pixels[i + 2] = fill.b
                i += 3
            }
        }
        self.init(width: width, height: height, pixels: pixels)
    }

    /// Number of bytes in one row.
    @inlinable public var rowBytes: Int { width * 3 }

    /// The pixel at column `x`, row `y`.
    public subscript(x: Int, y: Int) -> (r: UInt8, g: UInt8, b: UInt8) {
        get {
            precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel (\(x), \(y)) outside \(width)×\(height)")
            let i = (y * width + x) * 3
            return (pixels[i], pixels[i + 1], pixels[i + 2])
        }
        set {
            precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel (\(x), \(y)) outside \(width)×\(height)")
            let i = (y * width + x) * 3
            pixels[i] = newValue.r
            pixels[i + 1] = newValue.g
            pixels[i + 2] = newValue.b
        }
    }

    /// Changes the size, keeping the storage when the byte count does not change. The contents are
    /// unspecified afterwards; used by the decoders and resamplers that write into a caller's image.
    public mutating func reshape(width: Int, height: Int) {
        precondition(width >= 0 && height >= 0, "negative image size \(width)×\(height)")
        let count = width * height * 3
        if pixels.count != count {
            pixels = [UInt8](repeating: 0, count: count)
        }
        self.width = width
        self.height = height
    }

    /// The same pixels with an opaque alpha channel.
    public func withOpaqueAlpha() -> RGBAImage {
        var out = [UInt8](repeating: 255, count: width * height * 4)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<(width * height) {
                    dst[i * 4] = src[i * 3]
                    dst[i * 4 + 1] = src[i * 3 + 1]
                    dst[i * 4 + 2] = src[i * 3 + 2]
                }
            }
        }
        return RGBAImage(width: width, height: height, pixels: out)
    }
}

/// An 8-bit RGBA image (straight, not premultiplied, alpha), rows top to bottom, pixels
/// interleaved `R G B A …`. Rendered views use it.
public struct RGBAImage: Sendable, Equatable {
    /// Bytes per pixel.
    public static let channels = 4

    public private(set) var width: Int
    public private(set) var height: Int
    /// Interleaved RGBA samples, `(y * width + x) * 4 + channel`.
    public var pixels: [UInt8]

    /// Wraps existing samples.
    /// - Parameters:
    ///   - width: columns, ≥ 0.
    ///   - height: rows, ≥ 0.
    ///   - pixels: `width * height * 4` interleaved RGBA bytes.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0, "negative image size \(width)×\(height)")
        precondition(pixels.count == width * height * 4,
                     "RGBA image \(width)×\(height) needs \(width * height * 4) bytes, got \(pixels.count)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// An image filled with one colour (opaque black by default).
    public init(width: Int, height: Int, fill: (r: UInt8, g: UInt8, b: UInt8, a: UInt8) = (0, 0, 0, 255)) {
        precondition(width >= 0 && height >= 0, "negative image size \(width)×\(height)")
        var pixels = [UInt8](repeating: 0, count: width * height * 4)
        var i = 0
        while i < pixels.count {
            pixels[i] = fill.r
            pixels[i + 1] = fill.g
            pixels[i + 2] = fill.b
            pixels[i + 3] = fill.a
            i += 4
        }
        self.init(width: width, height: height, pixels: pixels)
    }

    /// Number of bytes in one row.
    @inlinable public var rowBytes: Int { width * 4 }

    /// The pixel at column `x`, row `y`.
    public subscript(x: Int, y: Int) -> (r: UInt8, g: UInt8, b: UInt8, a: UInt8) {
        get {
            precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel (\(x), \(y)) outside \(width)×\(height)")
            let i = (y * width + x) * 4
            return (pixels[i], pixels[i + 1], pixels[i + 2], pixels[i + 3])
        }
        set {
            precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel (\(x), \(y)) outside \(width)×\(height)")
            let i = (y * width + x) * 4
            pixels[i] = newValue.r
            pixels[i + 1] = newValue.g
            pixels[i + 2] = newValue.b
            pixels[i + 3] = newValue.a
        }
    }

    /// Changes the size, keeping the storage when the byte count does not change. The contents are
    /// unspecified afterwards.
    public mutating func reshape(width: Int, height: Int) {
        precondition(width >= 0 && height >= 0, "negative image size \(width)×\(height)")
        let count = width * height * 4
        if pixels.count != count {
            pixels = [UInt8](repeating: 0, count: count)
        }
        self.width = width
        self.height = height
    }

    /// The colour channels with the alpha channel dropped (not composited).
    public func droppingAlpha() -> RGBImage {
        var out = [UInt8](repeating: 0, count: width * height * 3)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<(width * height) {
                    dst[i * 3] = src[i * 4]
                    dst[i * 3 + 1] = src[i * 4 + 1]
                    dst[i * 3 + 2] = src[i * 4 + 2]
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }
}

/// A rectangle of whole pixels: columns `x ..< x + width`, rows `y ..< y + height`.
public struct PixelRect: Sendable, Equatable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    /// Whether the rectangle is non-empty and lies inside a `width × height` image.
    public func fits(width imageWidth: Int, height imageHeight: Int) -> Bool {
        width > 0 && height > 0 && x >= 0 && y >= 0 && x + width <= imageWidth && y + height <= imageHeight
    }

    public var description: String { "\(width)×\(height) at (\(x), \(y))" }
}
