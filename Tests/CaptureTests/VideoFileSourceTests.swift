import Capture
import Foundation
import Support
import Testing

/// Test videos are made with the ffmpeg command in a temporary folder.
@Suite("Video file source", .enabled(if: ffmpegAvailable, "the ffmpeg command is not installed (Scripts/setup installs it)"))
struct VideoFileSourceTests {
    /// A 12-frame 64×48 clip whose frame i is filled with grey level 20·i (+ noise of the codec).
    static func makeClip(_ dir: String, codec: [String] = ["-c:v", "libx264", "-preset", "ultrafast", "-qp", "0"],
                         name: String = "clip.mp4") throws -> String {
        let path = (dir as NSString).appendingPathComponent(name)
        // geq: every pixel of frame N has luma 20 + 16·N, so frames can be told apart after decoding.
        try ffmpeg(["-f", "lavfi", "-i", "color=c=black:s=64x48:r=24:d=0.5", "-vf", "geq=lum='20+16*N':cb=128:cr=128",
                    "-pix_fmt", "yuv420p"] + codec + [path])
        return path
    }

    /// The mean of a frame's first channel.
    func level(_ b: FrameBuffer) -> Int { b.bytes.enumerated().filter { $0.offset % 3 == 0 }.map { Int($0.element) }.reduce(0, +) / (b.count / 3) }

    @Test("decodes every frame in order and loops, from the cache after the first pass",
          arguments: [0, VideoFileSource.defaultCacheBudget])
    func loops(cacheBudget: Int) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try Self.makeClip(dir)
        let source = VideoFileSource(path: path, options: SourceOptions(frameRate: 0), cacheBudget: cacheBudget)
        try source.open()
        defer { source.close() }
        #expect(source.geometry == FrameGeometry(width: 64, height: 48))
        #expect(source.detail.contains("64×48 h264"))
        let buffer = FrameBuffer(source.geometry)
        var levels: [Int] = []
        for _ in 0..<30 {
            guard case .frame = source.read(into: buffer.pointer, timeout: Nanoseconds.second) else { Issue.record("no frame"); return }
            levels.append(level(buffer))
        }
        let firstPass = Array(levels[0..<12])
        #expect(firstPass == firstPass.sorted() && Set(firstPass).count == 12, "\(levels)")
        #expect(Array(levels[12..<24]) == firstPass, "the second pass differs: \(levels)")
        #expect(source.loops == 2)
        #expect(source.isReplaying == (cacheBudget > 0))
    }

    @Test("plays at the file's frame rate unless told otherwise")
    func pacing() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = VideoFileSource(path: try Self.makeClip(dir))
        try source.open()
        defer { source.close() }
        #expect(source.frameRate == 24)
        let (frames, _) = readFrames(source, count: 7)
        let span = frames.last!.captureTime - frames.first!.captureTime
        #expect(span >= 240 * Nanoseconds.millisecond, "6 intervals at 24 fps took \(span) ns")
    }

    @Test("scales to cover the size asked for, and mirrors")
    func scaledAndMirrored() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = (dir as NSString).appendingPathComponent("bars.mp4")
        // Left half black, right half white.
        try ffmpeg(["-f", "lavfi", "-i", "color=c=black:s=64x48:r=10:d=0.3", "-vf", "geq=lum='if(lt(X,32),16,235)':cb=128:cr=128",
                    "-pix_fmt", "yuv420p", "-c:v", "libx264", "-qp", "0", path])
        let source = VideoFileSource(path: path, options: SourceOptions(width: 24, height: 24, frameRate: 0, mirror: true))
        try source.open()
        defer { source.close() }
        #expect(source.geometry == FrameGeometry(width: 24, height: 24))
        let b = FrameBuffer(source.geometry)
        guard case .frame = source.read(into: b.pointer, timeout: Nanoseconds.second) else { Issue.record("no frame"); return }
        #expect(b.pixel(2, 12, width: 24).0 > 200, "mirrored: white on the left")
        #expect(b.pixel(21, 12, width: 24).0 < 40)
    }

    @Test("a missing file, a folder and a file that is not a video are bad input naming the path")
    func badFiles() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let junk = (dir as NSString).appendingPathComponent("junk.mp4")
        try Data((0..<4000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }).write(to: URL(fileURLWithPath: junk))
        let audio = (dir as NSString).appendingPathComponent("tone.wav")
        try ffmpeg(["-f", "lavfi", "-i", "sine=d=0.2", audio])
        for (path, expected) in [(dir + "/none.mp4", "does not exist"), (dir, "it is a folder"),
                                 (junk, "FFmpeg cannot read it"), (audio, "it has no video stream")] {
            #expect {
                try VideoFileSource(path: path).open()
            } throws: { error in
                let e = error as! CaptureError
                return e.isBadInput && e.description.contains(path) && e.description.contains(expected)
            }
        }
    }

    @Test("opening and closing many times leaks no descriptor", .serialized, arguments: [1])
    func noDescriptorLeak(_: Int) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try Self.makeClip(dir)
        let source = VideoFileSource(path: path, options: SourceOptions(frameRate: 0), cacheBudget: 0)
        try source.open()
        source.close()
        let before = openDescriptorCount()
        for _ in 0..<40 {
            try source.open()
            _ = readFrames(source, count: 2)
            source.close()
        }
        // Other tests run in parallel and open files too; a leak here would add 40.
        #expect(openDescriptorCount() - before < 20)
    }
}
