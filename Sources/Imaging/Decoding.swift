// Decoding PNG (libpng's simplified API) and JPEG (TurboJPEG) into 8-bit RGB or RGBA.
//
// The format comes from the first bytes, never from the file name. Alpha is dropped when decoding
// to RGB (not composited): the colour channels come out exactly as stored, as Pillow's
// `convert("RGB")` gives them. Grey is replicated into R, G and B. 16-bit PNGs without colour-space
// chunks are taken as sRGB-encoded and scaled to 8 bits (65535 → 255, v·257 → v).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CPNG
import CTurboJPEG
import Support

/// The image formats this module decodes.
public enum ImageFormat: Sendable, Equatable {
    case png
    case jpeg

    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    static let jpegSignature: [UInt8] = [0xFF, 0xD8, 0xFF]

    /// The format whose signature starts `bytes`, or nil.
    public static func detect(_ bytes: UnsafeRawBufferPointer) -> ImageFormat? {
        func starts(with signature: [UInt8]) -> Bool {
            guard bytes.count >= signature.count else { return false }
            for i in signature.indices where bytes[i] != signature[i] { return false }
            return true
        }
        if starts(with: pngSignature) { return .png }
        if starts(with: jpegSignature) { return .jpeg }
        return nil
    }

    /// The format of the file at `path`, read from its first bytes.
    /// - Throws: `ImageError` when the file is missing, unreadable, empty or neither format.
    public static func detect(fileAt path: String) throws(ImageError) -> ImageFormat {
        let file = try InputFile(path: path)
        defer { file.closeFile() }
        return try file.format()
    }
}

// MARK: - Public entry points

extension InterleavedImage {
    /// Decodes the PNG or JPEG file at `path` (format detected from its first bytes) into RGB, or
    /// into RGBA, where images without alpha come out opaque.
    /// - Throws: `ImageError`, whose description names `path`.
    public init(contentsOfFile path: String) throws(ImageError) {
        let decoded = try decodeFile(path: path, channels: Self.channels)
        self.init(width: decoded.width, height: decoded.height, pixels: decoded.pixels)
    }

    /// Decodes PNG or JPEG bytes held in memory.
    /// - Parameters:
    ///   - bytes: the whole encoded file.
    ///   - name: how errors refer to the data (a file name, "frame 12", …).
    public init(decoding bytes: UnsafeRawBufferPointer, name: String) throws(ImageError) {
        let decoded = try decodeMemory(bytes, name: name, channels: Self.channels)
        self.init(width: decoded.width, height: decoded.height, pixels: decoded.pixels)
    }

    /// Decodes PNG or JPEG bytes held in an array; see `init(decoding:name:)`.
    public init(decoding bytes: [UInt8], name: String) throws(ImageError) {
        let decoded = try decodeArray(bytes, name: name, channels: Self.channels)
        self.init(width: decoded.width, height: decoded.height, pixels: decoded.pixels)
    }
}

// MARK: - Dispatch

private struct Decoded {
    var width: Int
    var height: Int
    var pixels: [UInt8]
}

private func decodeFile(path: String, channels: Int) throws(ImageError) -> Decoded {
    let file = try InputFile(path: path)
    defer { file.closeFile() }
    guard file.isRegular else {
        // A pipe or device: read it once, then decode from memory.
        return try decodeArray(try file.readAll(), name: path, channels: channels)
    }
    switch try file.format() {
    case .png:
        return try decodePNG(source: .file(path), name: path, channels: channels)
    case .jpeg:
        let bytes = try file.readAll()
        return try decodeArray(bytes, name: path, channels: channels)
    }
}

private func decodeArray(_ bytes: [UInt8], name: String, channels: Int) throws(ImageError) -> Decoded {
    let result = bytes.withUnsafeBytes { raw in
        Result { () throws(ImageError) in try decodeMemory(raw, name: name, channels: channels) }
    }
    return try result.get()
}

private func decodeMemory(_ bytes: UnsafeRawBufferPointer, name: String, channels: Int) throws(ImageError) -> Decoded {
    guard !bytes.isEmpty else { throw .empty(path: name) }
    switch ImageFormat.detect(bytes) {
    case .png?:
        return try decodePNG(source: .memory(bytes), name: name, channels: channels)
    case .jpeg?:
        let decoder = JPEGDecoder()
        let (width, height) = try decoder.header(bytes, name: name)
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        try pixels.withUnsafeMutableBufferPointer { (buffer) throws(ImageError) in
            try decoder.decompress(bytes, name: name, width: width, height: height, channels: channels,
                                   into: buffer.baseAddress!, tolerateWarnings: false)
        }
        return Decoded(width: width, height: height, pixels: pixels)
    case nil:
        throw .notAnImage(path: name)
    }
}

// MARK: - PNG

private enum PNGSource {
    case file(String)
    case memory(UnsafeRawBufferPointer)
}

/// The text libpng left in `image.message`.
func pngMessage(_ image: png_image) -> String {
    var message = image.message
    let text = withUnsafeBytes(of: &message) { raw -> String in
        let bytes = raw.prefix { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self)
    }
    return text.isEmpty ? "libpng reported an unspecified error" : text
}

private func decodePNG(source: PNGSource, name: String, channels: Int) throws(ImageError) -> Decoded {
    var image = png_image()
    image.version = UInt32(PNG_IMAGE_VERSION)
    defer { png_image_free(&image) }

    let begun: Int32
    switch source {
    case .file(let path):
        begun = png_image_begin_read_from_file(&image, path)
    case .memory(let bytes):
        begun = png_image_begin_read_from_memory(&image, bytes.baseAddress, bytes.count)
    }
    guard begun != 0 else { throw .corrupt(path: name, message: pngMessage(image)) }

    let width = Int(image.width), height = Int(image.height)
    guard width <= ImageLimits.maxDimension, height <= ImageLimits.maxDimension else {
        throw .tooLarge(path: name, width: width, height: height)
    }
    guard width > 0, height > 0 else {
        throw .corrupt(path: name, message: "the header gives a size of \(width)×\(height)")
    }

    // Read with alpha whenever the file has it, then drop it: libpng would otherwise composite.
    let hasAlpha = image.format & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0
    let readChannels = (channels == 4 || hasAlpha) ? 4 : 3
    image.format = readChannels == 4 ? UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA) : UInt32(PNG_FORMAT_FLAG_COLOR)
    image.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)

    var pixels = [UInt8](repeating: 0, count: width * height * readChannels)
    let finished = pixels.withUnsafeMutableBytes { buffer in
        png_image_finish_read(&image, nil, buffer.baseAddress, Int32(width * readChannels), nil)
    }
    guard finished != 0 else { throw .corrupt(path: name, message: pngMessage(image)) }

    if readChannels == 4 && channels == 3 {
        // Compact RGBA → RGB in place (each write lands at or before the bytes it reads).
        pixels.withUnsafeMutableBufferPointer { p in
            for i in 0..<(width * height) {
                p[i * 3] = p[i * 4]
                p[i * 3 + 1] = p[i * 4 + 1]
                p[i * 3 + 2] = p[i * 4 + 2]
            }
        }
        pixels.removeLast(width * height)
    }
    return Decoded(width: width, height: height, pixels: pixels)
}

// MARK: - JPEG

/// A reusable TurboJPEG decompressor, for decoding a stream of JPEG frames (MJPEG cameras)
/// without allocating per frame. Use one instance from one thread at a time.
public final class JPEGDecoder {
    private let handle: tjhandle

    public init() {
        guard let handle = tjInitDecompress() else {
            fatalError("TurboJPEG could not allocate a decompressor")
        }
        self.handle = handle
    }

    deinit { tjDestroy(handle) }

    /// Decodes one JPEG into `image`, reusing its storage when the size is unchanged.
    /// - Parameters:
    ///   - bytes: the whole JPEG stream.
    ///   - name: how errors refer to the data.
    ///   - image: receives the pixels; reshaped to the JPEG's size.
    ///   - tolerateWarnings: accept data that libjpeg decodes with a warning (extraneous bytes,
    ///     a premature end filled with grey) instead of failing.
    public func decode(_ bytes: UnsafeRawBufferPointer, name: String, into image: inout RGBImage,
                       tolerateWarnings: Bool = false) throws(ImageError) {
        let (width, height) = try header(bytes, name: name)
        image.reshape(width: width, height: height)
        try image.pixels.withUnsafeMutableBufferPointer { (pixels) throws(ImageError) in
            try decompress(bytes, name: name, width: width, height: height, channels: 3,
                           into: pixels.baseAddress!, tolerateWarnings: tolerateWarnings)
        }
    }

    /// Reads and checks the header: the size, within `ImageLimits`.
    func header(_ bytes: UnsafeRawBufferPointer, name: String) throws(ImageError) -> (width: Int, height: Int) {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), !bytes.isEmpty else {
            throw .empty(path: name)
        }
        guard ImageFormat.detect(bytes) == .jpeg else { throw .notAnImage(path: name) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        if tjDecompressHeader3(handle, base, UInt(bytes.count), &width, &height, &subsampling, &colorspace) != 0 {
            throw .corrupt(path: name, message: errorText())
        }
        if colorspace == Int32(TJCS_CMYK.rawValue) || colorspace == Int32(TJCS_YCCK.rawValue) {
            throw .unsupported(path: name, what: "a CMYK JPEG")
        }
        guard width <= ImageLimits.maxDimension, height <= ImageLimits.maxDimension else {
            throw .tooLarge(path: name, width: Int(width), height: Int(height))
        }
        guard width > 0, height > 0 else {
            throw .corrupt(path: name, message: "the data ends before the image size is given")
        }
        return (Int(width), Int(height))
    }

    /// Decompresses into `width × height × channels` bytes (3: RGB, 4: RGBA with opaque alpha);
    /// the size must be the one `header` returned.
    func decompress(_ bytes: UnsafeRawBufferPointer, name: String, width: Int, height: Int, channels: Int,
                    into destination: UnsafeMutablePointer<UInt8>, tolerateWarnings: Bool) throws(ImageError) {
        let base = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let format = channels == 4 ? TJPF_RGBA : TJPF_RGB
        let status = tjDecompress2(handle, base, UInt(bytes.count), destination, Int32(width), 0, Int32(height),
                                   Int32(format.rawValue), 0)
        if status != 0 {
            let isWarning = tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue)
            if !(isWarning && tolerateWarnings) {
                throw .corrupt(path: name, message: errorText())
            }
        }
    }

    private func errorText() -> String {
        guard let text = tjGetErrorStr2(handle) else { return "TurboJPEG reported an unspecified error" }
        return String(cString: text)
    }
}

// MARK: - Files

/// An open file being probed for its format.
private struct InputFile {
    /// Largest encoded file read into memory (a 16384² JPEG is far smaller).
    static let maxBytes = 1 << 30

    let path: String
    let descriptor: Int32
    let isRegular: Bool
    let size: Int

    init(path: String) throws(ImageError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw .notFound(path: path) }
            throw .unreadable(path: path, reason: systemMessage(code))
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            _ = close(fd)
            throw .unreadable(path: path, reason: systemMessage(code))
        }
        let kind = info.st_mode & S_IFMT
        if kind == S_IFDIR {
            _ = close(fd)
            throw .unreadable(path: path, reason: "it is a directory")
        }
        descriptor = fd
        isRegular = kind == S_IFREG
        size = Int(info.st_size)
    }

    func closeFile() { _ = close(descriptor) }

    /// Reads the first bytes (and leaves the file offset after them).
    func format() throws(ImageError) -> ImageFormat {
        if isRegular && size == 0 { throw .empty(path: path) }
        var prefix = [UInt8](repeating: 0, count: ImageFormat.pngSignature.count)
        let count = try readBytes(into: &prefix, at: 0)
        if count == 0 { throw .empty(path: path) }
        let format = prefix.withUnsafeBytes { ImageFormat.detect(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        guard let format else { throw .notAnImage(path: path) }
        return format
    }

    /// The whole file: from its start if it is a regular file, otherwise from where the stream is.
    func readAll() throws(ImageError) -> [UInt8] {
        if isRegular && lseek(descriptor, 0, SEEK_SET) != 0 {
            throw .unreadable(path: path, reason: systemMessage(errno))
        }
        guard size <= InputFile.maxBytes else {
            throw .unreadable(path: path, reason: "it is larger than \(InputFile.maxBytes >> 20) MiB")
        }
        var bytes = [UInt8](repeating: 0, count: isRegular ? size + 1 : 1 << 16)
        var filled = 0
        while true {
            if filled == bytes.count {
                guard filled < InputFile.maxBytes else {
                    throw .unreadable(path: path, reason: "it is larger than \(InputFile.maxBytes >> 20) MiB")
                }
                bytes.append(contentsOf: repeatElement(0, count: bytes.count))
            }
            let count = try readBytes(into: &bytes, at: filled)
            if count == 0 { break }
            filled += count
        }
        bytes.removeLast(bytes.count - filled)
        return bytes
    }

    /// Reads until `buffer` is full from `offset` on or the file ends; returns the byte count.
    private func readBytes(into buffer: inout [UInt8], at offset: Int) throws(ImageError) -> Int {
        var total = 0
        var failure: Int32 = 0
        buffer.withUnsafeMutableBytes { raw in
            while offset + total < raw.count {
                let n = read(descriptor, raw.baseAddress! + offset + total, raw.count - offset - total)
                if n > 0 { total += n; continue }
                if n == 0 { break }
                if errno == EINTR { continue }
                failure = errno
                break
            }
        }
        if failure != 0 { throw .unreadable(path: path, reason: systemMessage(failure)) }
        return total
    }
}

/// `strerror` text for an errno value, lower-cased at the start to sit inside a sentence.
func systemMessage(_ code: Int32) -> String { errnoReason(code) }
