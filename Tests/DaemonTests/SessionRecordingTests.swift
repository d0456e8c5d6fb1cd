import Capture
import CaptureTesting
import Daemon
import Foundation
import Interface
import Testing
import TestSupport
import Visualization

/// The worktree's default model (Scripts/setup converts it), or nil.
private let model: String? = {
    let root = ProcessInfo.processInfo.environment["DEEPSCOPE_ROOT"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    let path = root + "/Assets/models/efficientnet-lite0.onnx"
    return FileManager.default.fileExists(atPath: path) ? path : nil
}()

private let haveTools = model != nil && FileManager.default.isExecutableFile(atPath: "/usr/bin/ffprobe")
    && FileManager.default.isExecutableFile(atPath: "/usr/bin/ffmpeg")

private func run(_ tool: String, _ arguments: [String]) throws -> Data {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: tool)
    p.arguments = arguments
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return data
}

/// ffprobe's codec name, width, height and packet count of the first video stream.
private func probe(_ path: String) throws -> (codec: String, width: Int, height: Int, frames: Int) {
    let text = String(decoding: try run("/usr/bin/ffprobe", ["-v", "error", "-select_streams", "v:0", "-count_packets", "-show_entries",
                                                           "stream=codec_name,width,height,nb_read_packets", "-of", "csv=p=0", path]),
                      as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    let f = text.split(separator: ",").map(String.init)
    try #require(f.count == 4, "ffprobe said: \(text)")
    return (f[0], Int(f[1]) ?? -1, Int(f[2]) ?? -1, Int(f[3]) ?? -1)
}

private func temporaryFolder() throws -> String {
    let dir = NSTemporaryDirectory() + "deepscope-session-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

private func configuration(frames: Int?, session: String) -> SessionConfiguration {
    var c = SessionConfiguration(modelPath: model!, threads: 2, output: .headless, cameras: EmulatedVideoSystem(), log: { _ in })
    c.source = .synthetic(.init(width: 160, height: 120, frameRate: 60))
    c.frameLimit = frames
    c.mode = .some(nil)   // no projection: the debug build's backward pass is slow
    c.sessionDirectory = session
    return c
}

/// In the serialized `Session` suite: its leak checks count the `ds-` threads of every session.
extension SessionTests {
    @Test("run --session: every inferred frame is in input.mkv (FFV1, the source's size, the exact bytes) and in frames.jsonl, in order",
          .enabled(if: haveTools, "the default model, ffprobe or ffmpeg is missing: run Scripts/setup"))
    func sessionRecordsTheInputFrames() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let folder = dir + "/s1"
        let session = try Session(configuration(frames: 5, session: folder))
        let result = try session.run()
        #expect(result.pipeline.inferred == 5)
        let summary = try #require(session.sessionRecorder?.summary)
        #expect(summary.frames == 5 && summary.dropped == 0 && summary.stoppedEarly == nil, "\(summary)")

        let frames = try SessionLogReader.lines(SessionFrameRecord.self, path: folder + "/frames.jsonl")
        #expect(frames.map(\.seq) == Array(0..<5))
        #expect(zip(frames, frames.dropFirst()).allSatisfy { $0.captureNs < $1.captureNs && $0.frame < $1.frame && $0.ptsMs < $1.ptsMs },
                "\(frames)")
        #expect(frames.first?.ptsMs == 0)
        let header = try JSONDecoder().decode(SessionHeader.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/session.json")))
        #expect(header.width == 160 && header.height == 120 && header.model == model!)

        let probed = try probe(folder + "/input.mkv")
        #expect(probed.codec == "ffv1" && probed.width == 160 && probed.height == 120 && probed.frames == 5, "\(probed)")
        // Decoded back to RGB, each frame is byte for byte the scene's frame the network read.
        let raw = try run("/usr/bin/ffmpeg", ["-v", "error", "-i", folder + "/input.mkv", "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        let bytes = 160 * 120 * 3
        #expect(raw.count == 5 * bytes)
        let scene = SyntheticSource(options: SourceOptions(width: 160, height: 120))
        let expected = UnsafeMutablePointer<UInt8>.allocate(capacity: bytes)
        defer { expected.deallocate() }
        for (i, f) in frames.enumerated() where raw.count >= (i + 1) * bytes {
            scene.render(frame: f.sourceSeq - 1, into: expected)
            let same = raw.withUnsafeBytes { memcmp($0.baseAddress! + i * bytes, expected, bytes) == 0 }
            #expect(same, "frame \(i) (source frame \(f.sourceSeq)) differs from what the network read")
        }
    }

    @Test("run --session: the window's requests are logged with the frame they apply from; a freeze records no frame until it is released",
          .enabled(if: haveTools, "the default model, ffprobe or ffmpeg is missing: run Scripts/setup"))
    func sessionLogsTheRequests() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let folder = dir + "/s2"
        var c = configuration(frames: nil, session: folder)
        c.recordPath = dir + "/view.mp4"   // gives the session the window's stage, composed off-screen
        let session = try Session(c)
        let recorder = try #require(session.sessionRecorder)
        let requests = try #require(session.pipeline.visual?.requests)
        // The window's controller, driven by keys as the window drives it; its request goes down the
        // same channel the window sends it on.
        var controller = try #require(session.controller)
        requests.send(controller.request)
        session.start()
        defer { session.stop() }
        let g = Interface.FrameGeometry(layout: Layout(width: 1280, height: 800))
        #expect(waitUntil(120) { recorder.framesWritten >= 2 })
        let beforeSelect = recorder.framesSeen
        controller.selectLayer(controller.view.layer + 1)
        controller.selectUnit(2)
        requests.send(controller.request)
        let selected = controller.request
        #expect(waitUntil(120) { recorder.framesSeen >= beforeSelect + 2 })
        // Each request is waited for until the pipeline took it over (latest wins: one sent before
        // the last was taken would replace it, and rightly be logged as one change).
        #expect(waitUntil(120) { recorder.requestsLogged == 2 })
        _ = controller.handle(.key(.space, shift: false), geometry: g)   // freeze
        requests.send(controller.request)
        #expect(waitUntil(120) { recorder.requestsLogged == 3 })
        let frozenAt = recorder.framesSeen
        Thread.sleep(forTimeInterval: 0.3)
        let whileFrozen = recorder.framesSeen
        _ = controller.handle(.key(.character("m"), shift: false), geometry: g)   // mirror, still frozen
        requests.send(controller.request)
        #expect(waitUntil(120) { recorder.requestsLogged == 4 })
        _ = controller.handle(.key(.space, shift: false), geometry: g)   // release
        requests.send(controller.request)
        #expect(waitUntil(120) { recorder.framesSeen >= whileFrozen + 2 })
        session.stop()

        let actions = try SessionLogReader.lines(SessionActionRecord.self, path: folder + "/actions.jsonl")
        let frames = try SessionLogReader.lines(SessionFrameRecord.self, path: folder + "/frames.jsonl")
        #expect(frames.map(\.seq) == Array(0..<frames.count))
        try #require(actions.count == 5, "\(actions.map(\.actions))")
        #expect(actions.map(\.actions) == [["start"], ["select"], ["freeze"], ["mirror"], ["freeze"]])
        #expect(actions[0].frame == 0)
        // Each applies from a frame recorded after it was asked for, and frames only go forward.
        #expect(actions[1].frame >= beforeSelect && actions[1].frame <= beforeSelect + 2, "\(actions[1].frame) vs \(beforeSelect)")
        #expect(zip(actions, actions.dropFirst()).allSatisfy { $0.frame <= $1.frame })
        // Frozen: no frame reached the network between the freeze and its release.
        #expect(whileFrozen == frozenAt, "\(frozenAt) → \(whileFrozen)")
        #expect(actions[2].frame == actions[3].frame && actions[3].frame == actions[4].frame, "\(actions.map(\.frame))")
        #expect(actions[4].frame <= frames.count)
        // The lines give the requests back, layer names and all.
        let names = session.pipeline.visual!.builder.layerNames
        #expect(actions[1].request(layerNames: names) == selected)
        #expect(actions[1].layer == names[selected.selection.layer] && actions[1].unit == 2)
        #expect(actions[3].mirror && actions[3].frozen && !actions[4].frozen)
    }

    @Test("a session's files read back while it is still being written (as after a kill): every frame line has its video frame",
          .enabled(if: haveTools, "the default model, ffprobe or ffmpeg is missing: run Scripts/setup"))
    func sessionReadsBackMidRecording() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let folder = dir + "/s3"
        let session = try Session(configuration(frames: nil, session: folder))
        let recorder = try #require(session.sessionRecorder)
        session.start()
        defer { session.stop() }
        #expect(waitUntil(120) { recorder.framesWritten >= 3 })
        // What a kill at this moment would leave: the log first, then the video (which is ahead).
        let fm = FileManager.default
        try fm.copyItem(atPath: folder + "/frames.jsonl", toPath: dir + "/frames.jsonl")
        try fm.copyItem(atPath: folder + "/input.mkv", toPath: dir + "/input.mkv")
        session.stop()
        let lines = try SessionLogReader.lines(SessionFrameRecord.self, path: dir + "/frames.jsonl")
        let probed = try probe(dir + "/input.mkv")
        #expect(lines.count >= 3 && probed.frames >= lines.count, "\(lines.count) lines, \(probed)")
        #expect(probed.codec == "ffv1")
    }

    @Test("--session refuses a folder that already holds a session, naming it")
    func sessionRefusesAnOldFolder() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        FileManager.default.createFile(atPath: dir + "/frames.jsonl", contents: Data())
        do {
            _ = try SessionRecorder(directory: dir, geometry: Capture.FrameGeometry(width: 32, height: 32), layerNames: [],
                                    header: SessionHeader(model: "m", source: "s", width: 32, height: 32, startedAt: 0, startedNs: 0),
                                    log: { _ in })
            Issue.record("an old session folder was accepted")
        } catch {
            #expect(error.description.contains(dir) && error.isBadInput, "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/input.mkv"))
    }
}
