// In-memory 8-bit images: RGB for camera frames and model inputs, RGBA for rendered views.

/// What the RGB and RGBA images share: `channels` interleaved 8-bit samples per pixel, rows top to
/// bottom, `pixels.count == width * height * channels`.
public protocol InterleavedImage: Sendable, Equatable {
    /// Bytes per pixel.
    static var channels: Int { get }
    var width: Int { get }
    var height: Int { get }
    /// Interleaved samples, `(y * width + x) * channels + channel`.
    var pixels: [UInt8] { get set }
    /// Wraps existing samples: `width * height * channels` bytes.
    init(width: Int, height: Int, pixels: [UInt8])
}

extension InterleavedImage {
    /// Number of bytes in one row.
    @inlinable public var rowBytes: Int { width * Self.channels }

    /// The offset of pixel (`x`, `y`)'s first sample; traps outside the image.
    func offset(x: Int, y: Int) -> Int {
        precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel (\(x), \(y)) outside \(width)×\(height)")
        return (y * width + x) * Self.channels
    }

    /// Checks a size and a sample count, as every initializer does.
    static func validate(width: Int, height: Int, count: Int) {
        precondition(width >= 0 && height >= 0, "negative image size \(width)×\(height)")
        precondition(count == width * height * channels,
                     "\(channels)-channel image \(width)×\(height) needs \(width * height * channels) bytes, got \(count)")
    }

    /// `width × height` pixels, each the bytes of `pattern` (one per channel).
    static func filled(width: Int, height: Int, pattern: [UInt8]) -> Self {
        precondition(width >= 0 && height >= 0, "negative image size \(width)×\(height)")
        var pixels = [UInt8](repeating: pattern[0], count: width * height * channels)
        if pattern.contains(where: { $0 != pattern[0] }) {
            var i = 0
            while i < pixels.count {
                for c in 1..<channels { pixels[i + c] = pattern[c] }
                i += channels
            }
        }
        return Self(width: width, height: height, pixels: pixels)
    }

    /// Changes the size, keeping the storage when the byte count does not change. The contents are
    /// unspecified afterwards; used by the decoders and resamplers that write into a caller's image.
    public mutating func reshape(width: Int, height: Int) {
        precondition(width >= 0 && height >= 0, "negative image size \(width)×\(height)")
        let count = width * height * Self.channels
        var storage: [UInt8] = []
        swap(&storage, &pixels)  // keeps the buffer uniquely referenced: no copy
        if storage.count != count { storage = [UInt8](repeating: 0, count: count) }
        self = Self(width: width, height: height, pixels: storage)
    }

    /// The same pixels in an image of another channel count: the first channels copied, any extra
    /// channel set to `extra`.
    func converted<Target: InterleavedImage>(to _: Target.Type, extra: UInt8) -> Target {
        let from = Self.channels, to = Target.channels, shared = min(from, to)
        var out = [UInt8](repeating: extra, count: width * height * to)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<(width * height) {
                    for c in 0..<shared { dst[i * to + c] = src[i * from + c] }
                }
            }
        }
        return Target(width: width, height: height, pixels: out)
    }
}

/// An 8-bit RGB image, rows top to bottom, pixels interleaved `R G B R G B …`. Camera frames and
/// model inputs use it.
///
/// `pixels.count == width * height * 3` always holds for images made by this module; code that
/// replaces `pixels` by hand must keep it.
public struct RGBImage: InterleavedImage {
    public static let channels = 3

    public private(set) var width: Int
    public private(set) var height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        Self.validate(width: width, height: height, count: pixels.count)
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// An image filled with one colour (black by default).
    public init(width: Int, height: Int, fill: (r: UInt8, g: UInt8, b: UInt8) = (0, 0, 0)) {
        self = .filled(width: width, height: height, pattern: [fill.r, fill.g, fill.b])
    }

    /// The pixel at column `x`, row `y`.
    public subscript(x: Int, y: Int) -> (r: UInt8, g: UInt8, b: UInt8) {
        get {
            let i = offset(x: x, y: y)
            return (pixels[i], pixels[i + 1], pixels[i + 2])
        }
        set {
            let i = offset(x: x, y: y)
            (pixels[i], pixels[i + 1], pixels[i + 2]) = (newValue.r, newValue.g, newValue.b)
        }
    }

    /// The same pixels with an opaque alpha channel.
    public func withOpaqueAlpha() -> RGBAImage { converted(to: RGBAImage.self, extra: 255) }
}

/// An 8-bit RGBA image (straight, not premultiplied, alpha), rows top to bottom, pixels
/// interleaved `R G B A …`. Rendered views use it.
public struct RGBAImage: InterleavedImage {
    public static let channels = 4

    public private(set) var width: Int
    public private(set) var height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        Self.validate(width: width, height: height, count: pixels.count)
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// An image filled with one colour (opaque black by default).
    public init(width: Int, height: Int, fill: (r: UInt8, g: UInt8, b: UInt8, a: UInt8) = (0, 0, 0, 255)) {
        self = .filled(width: width, height: height, pattern: [fill.r, fill.g, fill.b, fill.a])
    }

    /// The pixel at column `x`, row `y`.
    public subscript(x: Int, y: Int) -> (r: UInt8, g: UInt8, b: UInt8, a: UInt8) {
        get {
            let i = offset(x: x, y: y)
            return (pixels[i], pixels[i + 1], pixels[i + 2], pixels[i + 3])
        }
        set {
            let i = offset(x: x, y: y)
            (pixels[i], pixels[i + 1], pixels[i + 2], pixels[i + 3]) = (newValue.r, newValue.g, newValue.b, newValue.a)
        }
    }

    /// The colour channels with the alpha channel dropped (not composited).
    public func droppingAlpha() -> RGBImage { converted(to: RGBImage.self, extra: 0) }
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
