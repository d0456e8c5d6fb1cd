import Foundation
import Recording
import Support
import Testing

/// The recorder writes a playable MP4 under its name only when finished, and refuses bad paths.
@Suite(.serialized) struct VideoRecorderTests {
    static let ffprobe = "/usr/bin/ffprobe"

    static func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "deepscope-rec-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// (frames, width, height) of the first video stream, as ffprobe counts them.
    static func probe(_ path: String) throws -> (Int, Int, Int) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ffprobe)
        p.arguments = ["-v", "error", "-select_streams", "v:0", "-show_entries",
                       "stream=width,height,nb_frames", "-of", "csv=p=0", path]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let fields = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",")
        let n = fields.compactMap { Int($0) }
        try #require(n.count == 3, "ffprobe said: \(fields)")
        return (n[2], n[0], n[1])
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: ffprobe), "no ffprobe: run Scripts/setup"))
    func recordsEveryFrameItHasTimeForAndRenamesAtTheEnd() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/clip.mp4"
        // An odd size: the video is rounded down to even sides.
        let (w, h) = (161, 101)
        let recorder = try VideoRecorder(path: path, width: w, height: h)
        #expect(!FileManager.default.fileExists(atPath: path), "nothing under the final name while recording")
        var pixels = [UInt8](repeating: 0, count: w * h * 4)
        let start = MonotonicClock.now()
        for i in 0..<20 {
            for p in 0..<(w * h) { pixels[p * 4] = UInt8(i * 12); pixels[p * 4 + 1] = UInt8(p % 251); pixels[p * 4 + 3] = 255 }
            pixels.withUnsafeBufferPointer { recorder.submit($0.baseAddress!, rowBytes: w * 4, time: start + UInt64(i) * 33_000_000) }
            usleep(30_000)   // room for the encoder: nothing should be dropped
        }
        let (frames, dropped) = try recorder.finish()
        #expect(frames + dropped == 20)
        #expect(frames >= 15, "\(frames) encoded, \(dropped) dropped")
        let (probed, vw, vh) = try Self.probe(path)
        #expect(probed == frames)
        #expect(vw == 160 && vh == 100)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0 != "clip.mp4" }
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
    }

    @Test func badPathsAreRefusedInOneSentence() {
        for (path, mentions) in [("/nonexistent-dir/clip.mp4", "/nonexistent-dir"), (NSTemporaryDirectory() + "clip.avi", ".mp4")] {
            do {
                _ = try VideoRecorder(path: path, width: 64, height: 48)
                Issue.record("\(path) was accepted")
            } catch {
                #expect(error.isBadInput && error.description.contains(mentions), "\(error.description)")
            }
        }
    }

    @Test func aRecordingWithoutFramesLeavesNothing() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let recorder = try VideoRecorder(path: dir + "/empty.mp4", width: 64, height: 48)
        #expect(throws: RecordingError.self) { try recorder.finish() }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }
}
