import Foundation
import Recording
import Support
import Testing

/// What ffprobe reads from an MP4: the first video stream's size, its packets (frames) counted by
/// reading the whole file, and the last packet's time.
struct Probe {
    static let ffprobe = "/usr/bin/ffprobe"
    static var missing: String? { FileManager.default.isExecutableFile(atPath: ffprobe) ? nil : "no ffprobe: run Scripts/setup" }

    var status: Int32
    var width = 0, height = 0, frames = 0
    var lastTime = 0.0
    var errors: String

    init(_ path: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.ffprobe)
        p.arguments = ["-v", "error", "-select_streams", "v:0", "-count_packets", "-show_entries",
                       "stream=width,height,nb_read_packets:packet=pts_time", "-of", "flat", path]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        status = p.terminationStatus
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let kv = line.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { continue }
            let value = kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            if kv[0].hasSuffix(".width") { width = Int(value) ?? 0 }
            if kv[0].hasSuffix(".height") { height = Int(value) ?? 0 }
            if kv[0].hasSuffix(".nb_read_packets") { frames = Int(value) ?? 0 }
            if kv[0].hasSuffix(".pts_time"), let t = Double(value) { lastTime = max(lastTime, t) }
        }
    }
}

/// The recorder writes fragmented MP4 at its final name from the start, playable whenever it stops.
@Suite(.serialized) struct VideoRecorderTests {
    static func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "deepscope-rec-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Submits frames `range` of a moving test pattern, `interval` nanoseconds of video time apart;
    /// `waitForEncoder`: each frame only once the encoder has taken the one before (none dropped,
    /// however busy the machine is).
    static func submit(_ recorder: VideoRecorder, frames range: Range<Int>, start: UInt64, interval: UInt64 = 33_000_000,
                       pause: UInt32 = 30_000, waitForEncoder: Bool = false) {
        let (w, h) = (recorder.width, recorder.height)
        var pixels = [UInt8](repeating: 255, count: w * h * 4)
        for i in range {
            for p in 0..<(w * h) { pixels[p * 4] = UInt8(truncatingIfNeeded: i * 12); pixels[p * 4 + 1] = UInt8(p % 251) }
            pixels.withUnsafeBufferPointer { recorder.submit($0.baseAddress!, rowBytes: w * 4, time: start + UInt64(i) * interval) }
            usleep(pause)
            let deadline = MonotonicClock.now() + 10 * Nanoseconds.second
            while waitForEncoder && recorder.encoded < recorder.submitted && recorder.stoppedEarly == nil && MonotonicClock.now() < deadline {
                usleep(1_000)
            }
        }
    }

    @Test(.enabled(if: Probe.missing == nil, "\(Probe.missing ?? "")"))
    func recordsEveryFrameAtItsFinalName() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/clip.mp4"
        // An odd size: the video is rounded down to even sides.
        let recorder = try VideoRecorder(path: path, width: 161, height: 101)
        #expect(FileManager.default.fileExists(atPath: path), "the file is at its final name from the start")
        Self.submit(recorder, frames: 0..<45, start: MonotonicClock.now(), pause: 0, waitForEncoder: true)
        let summary = try recorder.finish()
        #expect(summary.frames == 45 && summary.dropped == 0, "\(summary)")
        #expect(summary.stoppedEarly == nil)
        let probe = try Probe(path)
        #expect(probe.status == 0, "\(probe.errors)")
        #expect(probe.frames == summary.frames)
        #expect(probe.width == 160 && probe.height == 100)
        #expect(abs(probe.lastTime - 44 * 0.033) < 0.01, "last frame at \(probe.lastTime) s")
        let others = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0 != "clip.mp4" }
        #expect(others.isEmpty, "other files left: \(others)")
    }

    @Test("while it records, the file already plays up to its last complete fragment",
          .enabled(if: Probe.missing == nil, "\(Probe.missing ?? "")"))
    func playsWhileRecording() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/live.mp4"
        let recorder = try VideoRecorder(path: path, width: 96, height: 64, keyframeInterval: 500)
        // 2.5 s of video at 25 fps: keyframes (and fragment boundaries) at 0, 0.5, …, 2.0 s.
        Self.submit(recorder, frames: 0..<63, start: MonotonicClock.now(), interval: 40_000_000, pause: 0, waitForEncoder: true)
        usleep(200_000)
        let during = try Probe(path)
        #expect(during.status == 0, "\(during.errors)")
        // Everything before the last keyframe (2.0 s) is in complete fragments on the disk.
        #expect(during.frames >= 50 && during.lastTime >= 1.95, "\(during.frames) frames up to \(during.lastTime) s")
        _ = try recorder.finish()
        let after = try Probe(path)
        #expect(after.frames == recorder.encoded && after.frames > during.frames)
    }

    @Test("the folder removed while recording: it stops with one sentence, the view's frames are dropped, nothing crashes",
          .enabled(if: Probe.missing == nil, "\(Probe.missing ?? "")"))
    func vanishedFolderStopsTheRecording() throws {
        let dir = try Self.temporaryDirectory()
        let path = dir + "/gone.mp4"
        let recorder = try VideoRecorder(path: path, width: 64, height: 48, keyframeInterval: 200)
        let start = MonotonicClock.now()
        Self.submit(recorder, frames: 0..<10, start: start, pause: 5_000)
        try FileManager.default.removeItem(atPath: dir)
        Self.submit(recorder, frames: 10..<40, start: start, pause: 5_000)
        #expect(recorder.stoppedEarly?.contains("removed") == true, "\(recorder.stoppedEarly ?? "still recording")")
        do {
            let summary = try recorder.finish()
            Issue.record("finished as if nothing happened: \(summary)")
        } catch {
            #expect(error.description.contains(path) && error.description.contains("removed"), "\(error.description)")
        }
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

    @Test("the hidden partial files of older recorders are found, other files are not")
    func leftoversAreFound() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for name in [".demo.mp4.4242.tmp.mp4", ".my.talk.MP4.17.tmp.mp4", "demo.mp4", ".demo.mp4", ".x.mp4.notapid.tmp.mp4", ".tmp.mp4"] {
            try Data(repeating: 7, count: 1000).write(to: URL(fileURLWithPath: dir + "/" + name))
        }
        let found = VideoRecorder.leftovers(in: dir)
        #expect(found.map(\.name) == [".demo.mp4.4242.tmp.mp4", ".my.talk.MP4.17.tmp.mp4"])
        #expect(found.allSatisfy { $0.bytes == 1000 })
    }
}
