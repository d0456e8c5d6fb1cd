#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Imaging
import Testing

/// Every bad input gives one sentence naming the file, and no crash.
@Suite("Decoding errors")
struct DecodingErrorTests {
    @Test func missingFile() {
        let path = "/tmp/no-such-directory-for-imaging/missing.png"
        let error = imageError { _ = try RGBImage(contentsOfFile: path) }
        #expect(error == .notFound(path: path))
        #expect(error?.description == "\(path) does not exist")
    }

    @Test func missingFileUnderAFile() {
        let path = Fixtures.path("rgb.png") + "/inside.png"
        #expect(imageError { _ = try RGBImage(contentsOfFile: path) } == .notFound(path: path))
    }

    @Test func directory() {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let error = imageError { _ = try RGBImage(contentsOfFile: scratch.path) }
        #expect(error?.description == "\(scratch.path) cannot be read: it is a directory")
    }

    @Test func emptyFile() {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.file("empty.png")
        writeBytes([], to: path)
        let error = imageError { _ = try RGBImage(contentsOfFile: path) }
        #expect(error?.description == "\(path) is empty, not a PNG or JPEG image")
        #expect(imageError { _ = try RGBImage(decoding: [UInt8](), name: "buffer") } == .empty(path: "buffer"))
    }

    @Test func randomBytes() {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        var generator = SystemRandomNumberGenerator()
        for (index, length) in [1, 2, 7, 100, 5000].enumerated() {
            let path = scratch.file("random-\(index).jpg")
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            bytes[0] = 0x42  // never a signature's first byte
            writeBytes(bytes, to: path)
            let error = imageError { _ = try RGBImage(contentsOfFile: path) }
            #expect(error?.description == "\(path) is not a PNG or JPEG image")
        }
    }

    @Test func textFileNamedPNG() {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.file("notes.png")
        writeBytes(Array("These are notes, not a picture.\n".utf8), to: path)
        let error = imageError { _ = try RGBImage(contentsOfFile: path) }
        #expect(error == .notAnImage(path: path))
        #expect(error?.description == "\(path) is not a PNG or JPEG image")
    }

    @Test(arguments: [8, 12, 20, 33, 60, 120, 200])
    func truncatedPNG(length: Int) {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let bytes = Fixtures.bytes("rgb.png")
        precondition(length < bytes.count - 12)  // always cuts into the image data or before it
        let path = scratch.file("cut.png")
        writeBytes(Array(bytes[..<length]), to: path)
        expectCorrupt(imageError { _ = try RGBImage(contentsOfFile: path) }, path: path)
        expectCorrupt(imageError { _ = try RGBImage(decoding: Array(bytes[..<length]), name: "cut") }, path: "cut")
    }

    @Test func damagedPNGData() {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        var bytes = Fixtures.bytes("rgb.png")
        for i in 60..<90 { bytes[i] ^= 0x5A }
        let path = scratch.file("damaged.png")
        writeBytes(bytes, to: path)
        expectCorrupt(imageError { _ = try RGBImage(contentsOfFile: path) }, path: path)
    }

    @Test(arguments: [3, 10, 100, 300, 600, 900])
    func truncatedJPEG(length: Int) {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let bytes = Array(Fixtures.bytes("photo.jpg")[..<length])
        let path = scratch.file("cut.jpg")
        writeBytes(bytes, to: path)
        expectCorrupt(imageError { _ = try RGBImage(contentsOfFile: path) }, path: path)
        expectCorrupt(imageError { _ = try RGBAImage(decoding: bytes, name: "cut") }, path: "cut")
    }

    @Test func truncatedJPEGIsAcceptedWhenWarningsAreTolerated() throws {
        // Cut inside the entropy-coded data: libjpeg fills the rest and warns.
        let bytes = Array(Fixtures.bytes("photo.jpg")[..<900])
        let decoder = JPEGDecoder()
        var image = RGBImage(width: 0, height: 0)
        try bytes.withUnsafeBytes { try decoder.decode($0, name: "cut", into: &image, tolerateWarnings: true) }
        #expect(image.width == 48 && image.height == 32)
        let strict = imageError {
            try bytes.withUnsafeBytes { try decoder.decode($0, name: "cut", into: &image) }
        }
        #expect(strict?.description.hasPrefix("cut is truncated or corrupt: ") == true)
    }

    @Test func cmykJPEGIsRefused() {
        let path = Fixtures.path("cmyk.jpg")
        let error = imageError { _ = try RGBImage(contentsOfFile: path) }
        #expect(error?.description == "\(path) is a CMYK JPEG, which is not supported")
    }

    @Test func absurdPNGDimensionsAreRefusedBeforeAllocating() {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.file("huge.png")
        writeBytes(pngHeaderOnly(width: 100_000, height: 30_000), to: path)
        let error = imageError { _ = try RGBImage(contentsOfFile: path) }
        #expect(error == .tooLarge(path: path, width: 100_000, height: 30_000))
        #expect(error?.description == "\(path) is 100000×30000 pixels, more than the 16384 pixels per side accepted")
    }

    @Test func absurdJPEGDimensionsAreRefusedBeforeAllocating() {
        var bytes = Fixtures.bytes("photo.jpg")
        // Rewrite the frame header (SOF0: FF C0, length, precision, height, width) to 20000 × 60000.
        guard let sof = (0..<(bytes.count - 9)).first(where: { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xC0 }) else {
            Issue.record("photo.jpg has no SOF0 marker")
            return
        }
        bytes[sof + 5] = UInt8(20000 >> 8); bytes[sof + 6] = UInt8(20000 & 255)
        bytes[sof + 7] = UInt8(60000 >> 8); bytes[sof + 8] = UInt8(60000 & 255)
        let error = imageError { _ = try RGBImage(decoding: bytes, name: "huge.jpg") }
        #expect(error == .tooLarge(path: "huge.jpg", width: 60000, height: 20000))
    }

    @Test func unreadableFile() throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.file("secret.png")
        writeBytes(Fixtures.bytes("rgb.png"), to: path)
        chmod(path, 0)
        let error = imageError { _ = try RGBImage(contentsOfFile: path) }
        if geteuid() == 0 {
            #expect(error == nil)  // root reads it anyway
        } else {
            #expect(error?.description == "\(path) cannot be read: permission denied")
        }
    }

    private func expectCorrupt(_ error: ImageError?, path: String,
                               sourceLocation: SourceLocation = #_sourceLocation) {
        guard case .corrupt(let errorPath, let message)? = error else {
            Issue.record("expected a corrupt-file error, got \(String(describing: error))", sourceLocation: sourceLocation)
            return
        }
        #expect(errorPath == path, sourceLocation: sourceLocation)
        #expect(!message.isEmpty, sourceLocation: sourceLocation)
        #expect(error!.description == "\(path) is truncated or corrupt: \(message)", sourceLocation: sourceLocation)
    }
}

/// A PNG announcing an RGB image of the given size, with valid chunk CRCs but only a few bytes of
/// image data: enough for a reader to get past the header.
func pngHeaderOnly(width: UInt32, height: UInt32) -> [UInt8] {
    func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 255), UInt8((v >> 8) & 255), UInt8(v & 255)] }
    func chunk(_ kind: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(kind.utf8) + data
        return bigEndian(UInt32(data.count)) + body + bigEndian(crc32(body))
    }
    return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        + chunk("IHDR", bigEndian(width) + bigEndian(height) + [8, 2, 0, 0, 0])
        + chunk("IDAT", [0x78, 0x9C, 0x63, 0x00, 0x00])
        + chunk("IEND", [])
}

/// CRC-32 as PNG chunks use it (polynomial 0xEDB88320).
func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}
