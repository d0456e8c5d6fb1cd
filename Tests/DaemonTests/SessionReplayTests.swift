import Capture
import CaptureTesting
import Daemon
import Foundation
import Interface
import Support
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

/// Every result a session hands its sinks, in order.
private final class ResultLog: FrameSink, @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Classification] = []
    var all: [Classification] { lock.lock(); defer { lock.unlock() }; return items }
    func receive(result: Classification) { lock.lock(); items.append(result); lock.unlock() }
}

private func replayConfiguration(_ replay: SessionReplay) -> SessionConfiguration {
    var c = SessionConfiguration(modelPath: model!, threads: 2, output: .headless, cameras: EmulatedVideoSystem(), log: { _ in })
    c.replay = replay
    c.frameLimit = replay.frames.count
    c.adaptiveProjection = false
    c.capture.stallTimeout = 3600 * Nanoseconds.second
    return c
}

extension SessionTests {
    @Test("replay: every recorded frame reaches the network in order with the recorded mirror taken over at its frame: the live run's top classes, bit for bit; with another layer too",
          .enabled(if: model != nil, "the default model is missing: run Scripts/setup"))
    func replayGivesTheLiveResults() throws {
        let dir = NSTemporaryDirectory() + "deepscope-replay-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let folder = dir + "/s"
        var c = SessionConfiguration(modelPath: model!, threads: 2, output: .headless, cameras: EmulatedVideoSystem(), log: { _ in })
        c.source = .synthetic(.init(width: 160, height: 120, frameRate: 60))
        c.mode = .some(nil)   // no projection: the debug build's backward pass is slow
        c.sessionDirectory = folder
        c.recordPath = dir + "/view.mp4"   // the window's stage, so that requests are taken
        let live = try Session(c)
        let liveResults = ResultLog()
        live.attach(liveResults)
        let recorder = try #require(live.sessionRecorder)
        let requests = try #require(live.pipeline.visual?.requests)
        var controller = try #require(live.controller)
        live.start()
        #expect(waitUntil(120) { liveResults.all.count >= 2 })
        _ = controller.handle(.key(.character("m"), shift: false), geometry: Interface.FrameGeometry(layout: Layout(width: 1280, height: 800)))
        requests.send(controller.request)
        let mirroredFrom = recorder.framesSeen
        #expect(waitUntil(120) { liveResults.all.count >= mirroredFrom + 2 })
        live.stop()

        let frames = try SessionLogReader.lines(SessionFrameRecord.self, path: folder + "/frames.jsonl")
        let actions = try SessionLogReader.lines(SessionActionRecord.self, path: folder + "/actions.jsonl")
        #expect(actions.map(\.actions) == [["start"], ["mirror"]])
        let seqOf = Dictionary(uniqueKeysWithValues: frames.map { ($0.frame, $0.seq) })
        let expected = liveResults.all.compactMap { r in seqOf[r.frameNumber].map { ($0, r.top3) } }
        try #require(expected.count >= 4, "\(expected.count) live results in the session")

        for layer in [nil, "blk02_add"] as [String?] {
            let replay = try SessionReplay(directory: folder, layer: layer)
            var rc = replayConfiguration(replay)
            rc.layer = layer   // checked against the model, as `replay --layer` does
            let session = try Session(rc)
            let names = try #require(session.pipeline.visual?.builder.layerNames)
            let results = ResultLog()
            session.attach(results)
            let result = try session.run()
            #expect(result.pipeline.inferred == UInt64(frames.count), "layer \(layer ?? "recorded")")
            let shown = try #require(session.pipeline.visual?.requests.current.request.selection.layer)
            #expect(names[shown] == (layer ?? actions[1].layer), "the replay showed \(names[shown])")
            let got = results.all
            #expect(got.count == frames.count)
            for (seq, top) in expected where seq < got.count {
                #expect(got[seq].top3 == top, "frame \(seq) (mirrored from \(actions[1].frame)), layer \(layer ?? "recorded")")
            }
        }
        // The mirror changed what the network saw: the results before and after it are not one frame's.
        #expect(actions[1].frame > 0 && actions[1].frame < frames.count)
    }

    @Test("replay refuses a folder that is not a recorded session, naming it and what it lacks")
    func replayRefusesAPlainFolder() throws {
        let dir = NSTemporaryDirectory() + "deepscope-replay-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            _ = try SessionReplay(directory: dir)
            Issue.record("a plain folder was accepted")
        } catch {
            #expect(error.description.contains(dir) && error.description.contains("session.json") && error.isBadInput, "\(error)")
        }
    }
}
