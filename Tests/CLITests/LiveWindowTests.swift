import Foundation
import Testing

/// Test threads may run with SIGTERM and SIGINT blocked, and a spawned child inherits that mask
/// (a `timeout` wrapper could then never stop its child): unblock them before spawning.
func unblockStopSignals() {
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGTERM)
    sigaddset(&set, SIGINT)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
}

/// Ends a process: SIGTERM, then SIGKILL if it is still there after `grace` seconds.
func stop(_ process: Process, grace: Double = 5) {
    guard process.isRunning else { return }
    process.terminate()
    let deadline = Date().addingTimeInterval(grace)
    while process.isRunning && Date() < deadline { usleep(20_000) }
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
}

/// A private X server for one test: Xvfb on a display nobody else uses.
final class VirtualDisplay {
    let number: Int
    let process: Process

    var name: String { ":\(number)" }

    static var missing: String? {
        for tool in ["/usr/bin/Xvfb", "/usr/bin/xdotool", "/usr/bin/convert", "/usr/bin/import"]
        where !FileManager.default.isExecutableFile(atPath: tool) {
            return "\(tool) is not installed: run Scripts/setup"
        }
        return nil
    }

    init() throws {
        var n = 140 + Int.random(in: 0..<400)
        while FileManager.default.fileExists(atPath: "/tmp/.X11-unix/X\(n)") || FileManager.default.fileExists(atPath: "/tmp/.X\(n)-lock") { n += 1 }
        number = n
        process = Process()
        // Under `timeout`: a test that dies never leaves a server behind for long.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["300", "/usr/bin/Xvfb", ":\(n)", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        unblockStopSignals()
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: "/tmp/.X11-unix/X\(n)") {
            guard Date() < deadline, process.isRunning else { throw CocoaError(.fileNoSuchFile) }
            usleep(20_000)
        }
    }

    deinit { stop(process) }

    /// Runs an X client (xdotool, import, convert) on this display, for at most 20 seconds.
    @discardableResult
    func tool(_ path: String, _ arguments: [String]) throws -> CLI.Result {
        unblockStopSignals()
        return try CLI.run("/usr/bin/timeout", ["20", path] + arguments, environment: ["DISPLAY": name])
    }
}

/// `deepscope run` with a window, driven as a person would: its stderr lines are collected while it runs.
final class LiveProcess: @unchecked Sendable {
    let process = Process()
    private let lock = NSLock()
    private var errText = ""
    private var outText = ""

    init(_ arguments: [String], display: String) throws {
        // Under `timeout`: a stuck window never outlives the test run by more than two minutes.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["120", CLI.binary!] + arguments
        process.currentDirectoryURL = CLI.root
        var env = ProcessInfo.processInfo.environment
        env["DISPLAY"] = display
        env["DEEPSCOPE_LOG_LAYOUT"] = "1"
        env["SDL_RENDER_DRIVER"] = "software"
        env.removeValue(forKey: "SDL_VIDEODRIVER")
        process.environment = env
        let err = Pipe(), out = Pipe()
        process.standardError = err
        process.standardOutput = out
        process.standardInput = FileHandle.nullDevice
        unblockStopSignals()
        err.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            guard let self, !d.isEmpty else { return }
            self.lock.lock(); self.errText += String(decoding: d, as: UTF8.self); self.lock.unlock()
        }
        out.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            guard let self, !d.isEmpty else { return }
            self.lock.lock(); self.outText += String(decoding: d, as: UTF8.self); self.lock.unlock()
        }
        try process.run()
    }

    var stderr: String { lock.lock(); defer { lock.unlock() }; return errText }
    var stdout: String { lock.lock(); defer { lock.unlock() }; return outText }

    /// Waits for a stderr line after character `offset` that contains `text`; returns it.
    func waitForLine(containing text: String, after offset: Int = 0, seconds: Double = 30) -> (line: String, end: Int)? {
        CLI.waitForLine(in: { stderr }, running: { process.isRunning }, containing: text, after: offset, seconds: seconds)
    }

    func waitForExit(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return !process.isRunning
    }

    func end() { stop(process) }
}

/// The live window end to end, under Xvfb with real mouse clicks and key presses (xdotool).
@Suite(.serialized, .enabled(if: CLI.missing == nil && VirtualDisplay.missing == nil, "\(CLI.missing ?? VirtualDisplay.missing ?? "")"))
struct LiveWindowTests {
    static func rect(_ layout: String, _ name: String) throws -> (x: Int, y: Int, w: Int, h: Int) {
        let field = try #require(layout.split(separator: " ").first { $0.hasPrefix(name + "=") })
        let n = field.dropFirst(name.count + 1).split(separator: ",").compactMap { Int($0) }
        try #require(n.count == 4)
        return (n[0], n[1], n[2], n[3])
    }

    /// The standard deviation of a region of a screenshot (ImageMagick), 0…1.
    static func spread(_ png: String, _ r: (x: Int, y: Int, w: Int, h: Int), display: VirtualDisplay) throws -> Double {
        let res = try display.tool("/usr/bin/convert", [png, "-crop", "\(r.w)x\(r.h)+\(r.x)+\(r.y)", "+repage", "-colorspace", "gray",
                                                        "-format", "%[fx:standard_deviation]", "info:"])
        return Double(res.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    @Test("clicks select units and positions, keys change the view, every pane shows something, Q quits")
    func clicksAndKeys() throws {
        let (photos, _) = try ModelCommandsTests.photos()
        defer { try? FileManager.default.removeItem(at: photos) }
        let display = try VirtualDisplay()
        let app = try LiveProcess(["run", "--source", "image:" + photos.appendingPathComponent("chelsea.png").path,
                                   "--layer", "blk09_add", "--snapshot-dir", photos.path], display: display.name)
        defer { app.end() }

        let opened = try #require(app.waitForLine(containing: "Window open:"), "no window: \(app.stderr)")
        let wid = try #require(opened.line.split(separator: " ").last.flatMap { Int($0.trimmingCharacters(in: .punctuationCharacters)) })
        let first = try #require(app.waitForLine(containing: "First frame presented", after: opened.end), "no frame: \(app.stderr)")
        let layoutLine = try #require(app.waitForLine(containing: "Layout ", after: 0))
        let grid = try Self.rect(layoutLine.line, "grid"), input = try Self.rect(layoutLine.line, "input")
        let tile = try Self.rect(layoutLine.line, "first-tile")
        #expect(layoutLine.line.contains("tiles=112"), "blk09_add has 112 channels: \(layoutLine.line)")
        var mark = first.end

        func click(_ x: Int, _ y: Int) throws {
            try display.tool("/usr/bin/xdotool", ["mousemove", "--window", String(wid), String(x), String(y), "click", "1"])
        }
        func key(_ name: String) throws {
            try display.tool("/usr/bin/xdotool", ["key", "--window", String(wid), name])
        }

        // Click the third tile, then the fourth tile of the second row.
        try click(tile.x + 2 * (tile.w + 1) + tile.w / 2, tile.y + tile.h / 2)
        let sel0 = try #require(app.waitForLine(containing: "Selected blk09_add:", after: mark, seconds: 20), "no selection: \(app.stderr)")
        #expect(sel0.line.contains("Selected blk09_add:2."), "\(sel0.line)")
        let columns = try #require(layoutLine.line.split(separator: " ").first { $0.hasPrefix("columns=") }.flatMap { Int($0.dropFirst(8)) })
        let unit = columns + 3
        try click(tile.x + 3 * (tile.w + 1) + tile.w / 2, tile.y + (tile.h + 1) + tile.h / 2)
        let sel1 = try #require(app.waitForLine(containing: "Selected blk09_add:\(unit).", after: sel0.end), "\(app.stderr)")
        let shows = try #require(app.waitForLine(containing: "Projection pane shows blk09_add:\(unit) (guided)", after: sel1.end),
                                 "the projection pane never showed unit \(unit): \(app.stderr)")
        mark = shows.end

        // A click on the input picks the seed position (blk09_add is 14×14).
        try click(input.x + input.w / 2, input.y + input.h / 2)
        let at = try #require(app.waitForLine(containing: "Selected blk09_add:\(unit) at ", after: mark), "\(app.stderr)")
        mark = at.end

        // Every pane shows something.
        usleep(300_000)
        let shot = photos.appendingPathComponent("window.png").path
        let grab = try display.tool("/usr/bin/import", ["-window", String(wid), shot])
        #expect(grab.status == 0, "\(grab.stderr)")
        for pane in ["input", "projection", "unit", "grid", "layers", "top", "status"] {
            let r = try Self.rect(layoutLine.line, pane)
            let s = try Self.spread(shot, r, display: display)
            #expect(s > 0.02, "the \(pane) pane looks empty (spread \(s))")
        }
        #expect(grid.w > 400 && grid.h > 400)

        // Keys: projection mode, freeze, help, snapshot, wheel to the next layer, quit.
        try key("p")
        let mode = try #require(app.waitForLine(containing: "Projection mode deconv", after: mark), "\(app.stderr)")
        #expect(app.waitForLine(containing: "Projection pane shows blk09_add:\(unit) (deconv)", after: mode.end) != nil)
        try key("space")
        let frozen = try #require(app.waitForLine(containing: "Frame frozen.", after: mode.end), "\(app.stderr)")
        try key("Page_Down")
        let next = try #require(app.waitForLine(containing: "Selected ", after: frozen.end), "\(app.stderr)")
        #expect(!next.line.contains("blk09_add"), "PgDn moves to the next layer: \(next.line)")
        try key("k")
        let saved = try #require(app.waitForLine(containing: "Snapshot saved to ", after: next.end), "\(app.stderr)")
        let savedPath = saved.line.components(separatedBy: "Snapshot saved to ").last.map { String($0.dropLast()) } ?? ""
        #expect(FileManager.default.fileExists(atPath: savedPath), "\(saved.line)")
        // R starts a recording, R again saves it.
        try key("r")
        let recording = try #require(app.waitForLine(containing: "Recording to ", after: saved.end), "\(app.stderr)")
        usleep(1_500_000)
        try key("r")
        let recorded = try #require(app.waitForLine(containing: "Recording saved to ", after: recording.end), "\(app.stderr)")
        let clip = recorded.line.components(separatedBy: "Recording saved to ").last?.components(separatedBy: ".mp4:").first.map { $0 + ".mp4" } ?? ""
        let size = (try? FileManager.default.attributesOfItem(atPath: clip)[.size] as? Int) ?? 0
        #expect(size > 1000, "the clip \(clip) has \(size) bytes")
        try key("h")
        _ = try #require(app.waitForLine(containing: "Help shown.", after: recorded.end), "\(app.stderr)")
        try key("F13")   // a key the window has no binding for: ignored
        try key("q")
        #expect(app.waitForExit(seconds: 20), "q did not quit")
        #expect(app.process.terminationStatus == 0, "\(app.stderr)")
        let out = app.stdout
        #expect(out.contains("window ") && out.contains("frames presented"), "\(out)")
        #expect(out.contains("capture to present"), "\(out)")
    }

    @Test("without a display: one line saying so, then headless to the end, exit 0")
    func noDisplay() throws {
        let r = try CLI.run(CLI.binary!, ["run", "--source", "synthetic", "--frames", "1"],
                            environment: ["DISPLAY": ":9999", "WAYLAND_DISPLAY": "", "SDL_VIDEODRIVER": "x11"])
        #expect(r.status == 0, "\(r.stderr)")
        let said = r.stderr.split(separator: "\n").filter { $0.contains("No display") }
        #expect(said.count == 1 && said[0].contains("running headless") && said[0].contains("render"), "\(r.stderr)")
        #expect(r.stdout.contains("captured") && r.stdout.contains("inferred 1"), "\(r.stdout)")
        #expect(!r.stdout.contains("frames presented"), "no window report: \(r.stdout)")
    }

    @Test("without a display, --record records the same view composed off-screen (one line says so)")
    func noDisplayRecord() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let clip = dir.appendingPathComponent("nodisplay.mp4").path
        let r = try CLI.run(CLI.binary!, ["run", "--source", "synthetic", "--frames", "20", "--size", "320x200", "--record", clip],
                            environment: ["DISPLAY": ":9999", "WAYLAND_DISPLAY": "", "SDL_VIDEODRIVER": "x11"])
        #expect(r.status == 0, "\(r.stderr)")
        let said = r.stderr.split(separator: "\n").filter { $0.contains("No display") }
        #expect(said.count == 1 && said[0].contains("off-screen"), "\(r.stderr)")
        let probe = try CLI.run("/usr/bin/ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries",
                                                     "stream=codec_name,width,height", "-of", "csv=p=0", clip])
        #expect(probe.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "h264,320,200", "\(probe.stdout) \(probe.stderr)")
    }

    @Test("--record: a folder that cannot be written or a wrong extension are refused before anything starts")
    func recordBadInput() throws {
        for (args, mentions) in [(["--record", "/nonexistent-dir/clip.mp4"], "/nonexistent-dir"),
                                 (["--record", "/tmp/clip.avi"], ".mp4")] {
            let r = try CLI.run(CLI.binary!, ["run", "--source", "synthetic", "--frames", "1"] + args,
                                environment: ["DISPLAY": ":9999"])
            #expect(r.status == 2, "\(args): \(r.stderr)")
            #expect(r.stderr.contains(mentions) && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/clip.avi"))
    }

    @Test("--record writes an MP4 of the window")
    func recordsTheWindow() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let clip = dir.appendingPathComponent("run.mp4").path
        let display = try VirtualDisplay()
        let app = try LiveProcess(["run", "--source", "synthetic", "--size", "640x400", "--frames", "30", "--record", clip], display: display.name)
        defer { app.end() }
        #expect(app.waitForExit(seconds: 90))
        #expect(app.process.terminationStatus == 0, "\(app.stderr)")
        let saved = try #require(app.waitForLine(containing: "Recording saved to \(clip)"), "\(app.stderr)")
        let frames = Int(saved.line.components(separatedBy: ": ").last?.split(separator: " ").first ?? "") ?? 0
        #expect(frames >= 10, "\(saved.line)")
        let probe = try CLI.run("/usr/bin/ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries",
                                                     "stream=codec_name,width,height,nb_read_packets", "-count_packets", "-of", "csv=p=0", clip])
        #expect(probe.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "h264,640,400,\(frames)", "\(probe.stdout) \(probe.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["run.mp4"], "no temporary file left")
    }

    @Test("a tiny window keeps a valid layout and keeps running")
    func tinyWindow() throws {
        let display = try VirtualDisplay()
        let app = try LiveProcess(["run", "--source", "synthetic", "--size", "120x90", "--frames", "40"], display: display.name)
        defer { app.end() }
        #expect(app.waitForLine(containing: "First frame presented") != nil, "\(app.stderr)")
        #expect(app.waitForExit(seconds: 60))
        #expect(app.process.terminationStatus == 0, "\(app.stderr)")
    }
}
