import Capture
import CaptureTesting
import Daemon
import Foundation
import Testing

/// The worktree's default model (Scripts/setup converts it), or nil.
private let model: String? = {
    let root = ProcessInfo.processInfo.environment["DEEPSCOPE_ROOT"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    let path = root + "/Assets/models/efficientnet-lite0.onnx"
    return FileManager.default.fileExists(atPath: path) ? path : nil
}()

/// Counts the composed frames a session hands its sinks.
private final class FrameCounter: FrameSink, @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var frames: Int { lock.lock(); defer { lock.unlock() }; return count }
    func receive(frame: ComposedFrame) { lock.lock(); count += 1; lock.unlock() }
}

/// ffprobe's packet count, width and height of the first video stream.
private func probe(_ path: String) throws -> (frames: Int, width: Int, height: Int) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/ffprobe")
    p.arguments = ["-v", "error", "-select_streams", "v:0", "-count_packets", "-show_entries",
                   "stream=nb_read_packets,width,height", "-of", "csv=p=0", path]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    let n = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").compactMap { Int($0) }
    try #require(n.count == 3, "ffprobe said: \(text)")
    return (n[2], n[0], n[1])
}

/// In the serialized `Session` suite: its leak checks count the `ds-` threads of every session.
extension SessionTests {
    @Test("headless with a record path: every composed view frame reaches the recorder, the file holds them at the view's size",
          .enabled(if: model != nil && FileManager.default.isExecutableFile(atPath: "/usr/bin/ffprobe"), "the default model or ffprobe is missing: run Scripts/setup"))
    func headlessSessionRecordsTheComposedView() throws {
        let dir = NSTemporaryDirectory() + "deepscope-offscreen-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/view.mp4"
        var c = SessionConfiguration(modelPath: model!, threads: 2, output: .headless, cameras: EmulatedVideoSystem(), log: { _ in })
        c.source = .synthetic(.init(width: 160, height: 120, frameRate: 30))
        c.frameLimit = 6
        c.mode = .some(nil)   // no projection: the debug build's backward pass is slow
        c.recordPath = path
        c.offscreenSize = (320, 200)
        let session = try Session(c)
        let counter = FrameCounter()
        session.attach(counter)
        let result = try session.run()
        #expect(result.pipeline.inferred == 6)
        let summary = try #require(session.recorder?.lastSummary)
        #expect(summary.stoppedEarly == nil)
        #expect(counter.frames > 0 && summary.frames + summary.dropped == counter.frames, "\(summary), \(counter.frames) composed")
        let probed = try probe(path)
        #expect(probed.frames == summary.frames && probed.width == 320 && probed.height == 200, "\(probed)")
    }
}
