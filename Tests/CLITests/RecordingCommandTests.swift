import Foundation
import Testing

/// A `deepscope` child process whose stderr is collected while it runs (no `timeout` wrapper, so
/// that a signal reaches deepscope itself).
final class RecordingChild: @unchecked Sendable {
    let process = Process()
    private let lock = NSLock()
    private var errText = ""
    /// When each stderr line arrived (seconds since the reference date), by line.
    private var arrivals: [(line: String, time: Double)] = []
    private var partial = ""

    init(_ arguments: [String], shell limit: Int? = nil) throws {
        if let limit {
            // bash's `ulimit -f` is in KiB: a file size limit for this child only.
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["-c", "ulimit -f \(limit); exec \"$0\" \"$@\"", CLI.binary!] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: CLI.binary!)
            process.arguments = arguments
        }
        process.currentDirectoryURL = CLI.root
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "DISPLAY")
        env.removeValue(forKey: "WAYLAND_DISPLAY")
        process.environment = env
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        unblockStopSignals()
        err.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            guard let self, !d.isEmpty else { return }
            let now = Date().timeIntervalSinceReferenceDate
            self.lock.lock()
            self.errText += String(decoding: d, as: UTF8.self)
            self.partial += String(decoding: d, as: UTF8.self)
            while let newline = self.partial.firstIndex(of: "\n") {
                self.arrivals.append((String(self.partial[..<newline]), now))
                self.partial = String(self.partial[self.partial.index(after: newline)...])
            }
            self.lock.unlock()
        }
        try process.run()
    }

    var stderr: String { lock.lock(); defer { lock.unlock() }; return errText }

    /// Waits for a stderr line containing `text`; returns when it arrived.
    func waitForLine(containing text: String, seconds: Double = 60) -> Double? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            lock.lock()
            let hit = arrivals.first { $0.line.contains(text) }
            lock.unlock()
            if let hit { return hit.time }
            if !process.isRunning { return nil }
            usleep(10_000)
        }
        return nil
    }

    func waitForExit(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit(); return false }
        return true
    }
}

/// What ffprobe reads from an MP4 (counting packets by reading the whole file).
struct ProbedVideo {
    var status: Int32
    var codec = "", width = 0, height = 0, frames = 0
    var lastTime = 0.0
    var errors: String

    init(_ path: String) throws {
        let r = try CLI.run("/usr/bin/ffprobe", ["-v", "error", "-select_streams", "v:0", "-count_packets", "-show_entries",
                                                 "stream=codec_name,width,height,nb_read_packets:packet=pts_time", "-of", "flat", path])
        status = r.status
        errors = r.stderr
        for line in r.stdout.split(separator: "\n") {
            let kv = line.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { continue }
            let value = kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            if kv[0].hasSuffix(".codec_name") { codec = value }
            if kv[0].hasSuffix(".width") { width = Int(value) ?? 0 }
            if kv[0].hasSuffix(".height") { height = Int(value) ?? 0 }
            if kv[0].hasSuffix(".nb_read_packets") { frames = Int(value) ?? 0 }
            if kv[0].hasSuffix(".pts_time"), let t = Double(value) { lastTime = max(lastTime, t) }
        }
    }
}

/// `run --headless --record`: the window's view composed off-screen into fragmented MP4 that
/// plays however the run ends — normally, by SIGKILL, or on a full disk.
@Suite(.serialized, .enabled(if: CLI.missing == nil && FileManager.default.isExecutableFile(atPath: "/usr/bin/ffprobe"),
                             "\(CLI.missing ?? "no ffprobe: run Scripts/setup")"))
struct RecordingCommandTests {
    /// "Recording saved to PATH: N frames, …" → N.
    static func savedFrames(_ stderr: String, _ path: String) -> Int? {
        guard let line = stderr.split(separator: "\n").first(where: { $0.contains("Recording saved to \(path): ") }) else { return nil }
        return Int(line.components(separatedBy: ": ").last?.split(separator: " ").first ?? "")
    }

    @Test("headless, N frames of the synthetic source: ffprobe reads every frame the log names, at --size")
    func headlessRecording() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let clip = dir.appendingPathComponent("headless.mp4").path
        let r = try CLI.deepscope(["run", "--source", "synthetic", "--headless", "--frames", "60", "--size", "640x400", "--record", clip])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("inferred 60"), "\(r.stdout)")
        let frames = try #require(Self.savedFrames(r.stderr, clip), "\(r.stderr)")
        #expect(frames >= 30 && frames <= 60, "\(frames) composed frames for 60 inferred")
        let probe = try ProbedVideo(clip)
        #expect(probe.status == 0 && probe.errors.isEmpty, "\(probe.errors)")
        #expect(probe.codec == "h264" && probe.width == 640 && probe.height == 400, "\(probe)")
        #expect(probe.frames == frames)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["headless.mp4"], "nothing else left")
    }

    @Test("SIGKILL at random moments: the file plays to within about a second of the kill", arguments: 0..<3)
    func survivesSIGKILL(run: Int) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let clip = dir.appendingPathComponent("killed.mp4").path
        let child = try RecordingChild(["run", "--source", "synthetic", "--headless", "--size", "480x300", "--record", clip])
        let started = try #require(child.waitForLine(containing: "Recording to \(clip)"), "\(child.stderr)")
        let delay = Double.random(in: 1.5...4.5)
        usleep(UInt32(delay * 1e6))
        let killedAt = Date().timeIntervalSinceReferenceDate
        kill(child.process.processIdentifier, SIGKILL)
        child.process.waitUntilExit()
        #expect(child.process.terminationReason == .uncaughtSignal)
        let recorded = killedAt - started
        let probe = try ProbedVideo(clip)
        #expect(probe.status == 0, "run \(run): \(probe.errors)")
        #expect(probe.frames > 0 && probe.width == 480, "run \(run): \(probe)")
        // Lost: at most the fragment being written (one keyframe interval, 1 s) and the time the
        // first frame took to arrive after the log line.
        #expect(probe.lastTime >= recorded - 1.5 && probe.lastTime <= recorded + 0.1,
                "run \(run): killed \(String(format: "%.2f", recorded)) s after recording started; plays to \(probe.lastTime) s")
    }

    @Test("a full disk (a file size limit on the child, RLIMIT_FSIZE): one message, a playable file, the view goes on")
    func fullDisk() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let clip = dir.appendingPathComponent("full.mp4").path
        let limitKiB = 600
        let child = try RecordingChild(["run", "--source", "synthetic", "--headless", "--frames", "150", "--size", "640x400", "--record", clip],
                                       shell: limitKiB)
        #expect(child.waitForExit(seconds: 120), "\(child.stderr)")
        #expect(child.process.terminationStatus == 0, "\(child.stderr)")
        let lines = child.stderr.split(separator: "\n")
        let stopped = lines.filter { $0.contains("Recording to \(clip) stopped: ") }
        #expect(stopped.count == 1 && stopped.first?.contains("File too large") == true, "\(child.stderr)")
        #expect(!lines.contains { $0.contains("Recording saved") }, "\(child.stderr)")
        let size = try #require(try FileManager.default.attributesOfItem(atPath: clip)[.size] as? Int)
        #expect(size <= limitKiB * 1024)
        let probe = try ProbedVideo(clip)
        #expect(probe.status == 0 && probe.errors.isEmpty, "\(probe.errors)")
        #expect(probe.frames > 0 && probe.width == 640, "\(probe)")
    }

    @Test("the hidden partial files older versions left are reported at start, and left alone")
    func leftoversReported() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let old = dir.appendingPathComponent(".demo.mp4.31337.tmp.mp4")
        try Data(repeating: 1, count: 2_000_000).write(to: old)
        let clip = dir.appendingPathComponent("new.mp4").path
        let r = try CLI.deepscope(["run", "--source", "synthetic", "--headless", "--frames", "5", "--size", "320x200", "--record", clip])
        #expect(r.status == 0, "\(r.stderr)")
        let said = r.stderr.split(separator: "\n").filter { $0.contains("unfinished recording") }
        #expect(said.count == 1 && said[0].contains(".demo.mp4.31337.tmp.mp4") && said[0].contains("2.0 MB"), "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: old.path), "reported, not deleted")
    }
}
