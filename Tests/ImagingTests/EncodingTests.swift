#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Imaging
import Testing

@Suite("PNG encoding and atomic writing")
struct EncodingTests {
    @Test func rgbRoundTrip() throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let image = Patterns.rgbImage(width: 37, height: 23)
        let path = scratch.file("round-trip.png")
        try image.writePNG(to: path)
        #expect(try ImageFormat.detect(fileAt: path) == .png)
        #expect(try RGBImage(contentsOfFile: path) == image)
        #expect(scratch.entries() == ["round-trip.png"])
    }

    @Test func rgbaRoundTrip() throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        var image = RGBAImage(width: 19, height: 11)
        for y in 0..<image.height {
            for x in 0..<image.width {
                let (r, g, b) = Patterns.rgb(x, y)
                image[x, y] = (r, g, b, Patterns.alpha(x, y))
            }
        }
        let path = scratch.file("view.png")
        try image.writePNG(to: path, fast: true)
        #expect(try RGBAImage(contentsOfFile: path) == image)
        #expect(try RGBImage(contentsOfFile: path) == image.droppingAlpha())
    }

    @Test func overwriteReplacesTheWholeFile() throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.file("out.png")
        try Patterns.rgbImage(width: 40, height: 30).writePNG(to: path)
        let second = RGBImage(width: 3, height: 2, fill: (9, 8, 7))
        try second.writePNG(to: path)
        #expect(try RGBImage(contentsOfFile: path) == second)
        #expect(scratch.entries() == ["out.png"])
    }

    @Test func missingDirectoryLeavesNothing() {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.file("nope/out.png")
        let error = imageError { try Patterns.rgbImage().writePNG(to: path) }
        #expect(error?.description == "\(path) could not be written: the directory \(scratch.file("nope")) does not exist")
        #expect(scratch.entries().isEmpty)
    }

    @Test(.enabled(if: geteuid() != 0, "root writes into read-only directories"))
    func readOnlyDirectoryLeavesNothing() {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        mkdir(scratch.file("locked"), 0o555)
        let path = scratch.file("locked/out.png")
        let error = imageError { try Patterns.rgbImage().writePNG(to: path) }
        #expect(error?.description.hasPrefix("\(path) could not be written: ") == true)
        #expect(scratch.entries("locked").isEmpty)
    }

    @Test func renameFailureRemovesTheTemporaryFile() {
        // The target is a directory: the temporary file is written, the rename fails.
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        mkdir(scratch.file("taken.png"), 0o755)
        let path = scratch.file("taken.png")
        let error = imageError { try Patterns.rgbImage().writePNG(to: path) }
        #expect(error?.description.hasPrefix("\(path) could not be written: ") == true)
        #expect(scratch.entries() == ["taken.png"])
        #expect(scratch.entries("taken.png").isEmpty)
    }

    @Test func failingWriterKeepsTheOldFile() throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.file("keep.png")
        let original = Patterns.rgbImage()
        try original.writePNG(to: path)
        let error = imageError {
            try writeFileAtomically(path) { (stream) throws(ImageError) in
                _ = fputs("half a file", stream)
                throw .writeFailed(path: path, reason: "the test stopped halfway")
            }
        }
        #expect(error == .writeFailed(path: path, reason: "the test stopped halfway"))
        #expect(try RGBImage(contentsOfFile: path) == original)
        #expect(scratch.entries() == ["keep.png"])
    }

    @Test func emptyImageIsRefusedAndLeavesNothing() {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.file("empty.png")
        let error = imageError { try RGBImage(width: 0, height: 5).writePNG(to: path) }
        #expect(error?.description == "\(path) could not be written: an image of 0×5 pixels cannot be stored as PNG")
        #expect(scratch.entries().isEmpty)
    }

    @Test func newFilesFollowTheUmask() throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.file("mode.png")
        try Patterns.rgbImage().writePNG(to: path)
        var info = stat()
        #expect(stat(path, &info) == 0)
        // Read the umask without changing it (tests run concurrently in one process).
        let status = String(decoding: readBytes("/proc/self/status"), as: UTF8.self)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Umask:") }),
              let mask = mode_t(line.dropFirst(6).trimmingPrefix(while: { $0 == " " || $0 == "\t" }), radix: 8) else {
            return  // kernels before 4.7 do not report it
        }
        #expect(info.st_mode & 0o777 == 0o666 & ~mask)
    }
}
