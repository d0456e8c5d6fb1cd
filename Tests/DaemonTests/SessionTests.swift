import Capture
import CaptureTesting
import Daemon
import Engine
import Foundation
import Glibc
import Imaging
import Support
import Testing
import TestSupport
import Visualization

/// The worktree's default model (Scripts/setup converts it), or nil.
private let defaultModel: String? = {
    let root = ProcessInfo.processInfo.environment["DEEPSCOPE_ROOT"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    let path = root + "/Assets/models/efficientnet-lite0.onnx"
    return FileManager.default.fileExists(atPath: path) ? path : nil
}()

/// What this process's descriptors point at (`/proc/self/fd/N` → target), for those whose target
/// satisfies `include`. Tests in other suites run at the same time and open pipes and files of
/// their own, so a leak check looks only at what the session could have opened.
private func openTargets(_ include: (String) -> Bool) -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    return names.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0) }
        .filter(include).sorted()
}

/// The ids of this process's threads named `ds-…` (the pipeline's capture and inference threads).
private func pipelineThreads() -> Set<String> {
    let tids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return Set(tids.filter { tid in
        let comm = (try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8)) ?? ""
        return comm.hasPrefix("ds-")
    })
}

/// Collects what a session hands its sinks, and whether it was closed.
private final class CollectingSink: FrameSink, @unchecked Sendable {
    let monitor = Monitor()
    var results: [Classification] = []
    var frames = 0
    var closed = 0
    var closedAfterFrames = -1

    func receive(result: Classification) { monitor.withLock { results.append(result) } }
    func receive(frame: ComposedFrame) { monitor.withLock { frames += 1 } }
    func close() { monitor.withLock { closed += 1; closedAfterFrames = results.count } }
}

private func configuration(_ model: String, cameras: any VideoDeviceSystem = EmulatedVideoSystem(), frames: Int) -> SessionConfiguration {
    var c = SessionConfiguration(modelPath: model, threads: 2, output: .headless, cameras: cameras, log: { _ in })
    c.frameLimit = frames
    return c
}

@Suite("Session", .serialized, .enabled(if: defaultModel != nil, "the default model is missing: run Scripts/setup"))
struct SessionTests {
    @Test("stop releases everything once, in order: no descriptor, thread or camera buffer outlives the session")
    func stopReleasesEverything() throws {
        let model = defaultModel!
        let ours: (String) -> Bool = { $0.hasPrefix(model) || $0.hasPrefix("/dev/video") || $0.contains("/Assets/") }
        let fdsBefore = openTargets(ours), threadsBefore = pipelineThreads()
        var started: Set<String> = []
        let system = EmulatedVideoSystem()
        system.plug("/dev/video0", model: .single(.rgb24, width: 64, height: 48, frameRates: [100]))
        let sink = CollectingSink()
        do {
            let session = try Session(configuration(defaultModel!, cameras: system, frames: 4))
            session.attach(sink)
            session.start()
            #expect(waitUntil(5) { pipelineThreads().subtracting(threadsBefore).count >= 2 }, "capture and inference threads run")
            started = pipelineThreads().subtracting(threadsBefore)
            #expect(session.isCamera && session.sources.count == 1)
            #expect(session.sources[0].name == "camera /dev/video0")
            let result = try session.run()
            #expect(result.pipeline.inferred == 4)
            #expect(!system.isStreaming())
            #expect(system.openDescriptorCount == 0 && system.mappingCount == 0 && system.allocatedBufferCount == 0)
            session.stop()   // a second stop does nothing
            #expect(sink.closed == 1, "sinks are closed once")
            #expect(sink.closedAfterFrames == 4, "sinks are closed after the last frame, before the pipeline's threads go")
        }
        // Other suites' pipelines may start and stop meanwhile: only the threads this one started count.
        #expect(waitUntil(10) { pipelineThreads().isDisjoint(with: started) }, "still running: \(started.intersection(pipelineThreads()))")
        #expect(openTargets(ours) == fdsBefore, "descriptors left open: \(openTargets(ours))")
    }

    @Test("a frame sink receives every inferred frame's result, top three classes included")
    func sinkReceivesResults() throws {
        let sink = CollectingSink()
        var c = configuration(defaultModel!, frames: 5)
        c.source = .synthetic(SourceOptions(width: 160, height: 120, frameRate: 100))
        let session = try Session(c)
        session.attach(sink)
        let result = try session.run()
        #expect(sink.results.count == 5)
        #expect(sink.results.map(\.frameNumber) == sink.results.map(\.frameNumber).sorted())
        let last = try #require(sink.results.last)
        #expect(last == result.latest)
        let top = last.top3.entries
        #expect(top.count == 3 && top[0].index == last.index && top[0].probability == last.probability)
        #expect(top[0].probability >= top[1].probability && top[1].probability >= top[2].probability && top[2].probability > 0)
        #expect(Set(top.map(\.index)).count == 3)
    }

    @Test("bad input is one sentence naming what is wrong, and nothing stays open")
    func badInput() throws {
        let ours: (String) -> Bool = { $0.contains("/Assets/") || $0.hasPrefix("/nonexistent") }
        let fds = openTargets(ours)
        var c = configuration(defaultModel!, frames: 1)
        c.layer = "no_such_layer"
        c.source = .synthetic(SourceOptions())
        #expect { try Session(c) } throws: { error in
            let e = error as? SessionError
            return e?.isBadInput == true && e?.description.contains("no layer named 'no_such_layer'") == true
        }
        c.layer = nil
        c.modelPath = "/nonexistent/model.onnx"
        #expect { try Session(c) } throws: { error in
            (error as? SessionError)?.description.contains("/nonexistent/model.onnx") == true
        }
        #expect(openTargets(ours) == fds)
    }

    @Test("with no camera the demo is the photo slideshow when there are photos, else the synthetic scene")
    func demoFallback() throws {
        let dir = try LivePipelineTests.folder([("a.png", (250, 0, 0)), ("b.png", (0, 250, 0))])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lines = LogLines()
        var c = configuration(defaultModel!, frames: 1)
        c.demoFolder = dir
        c.log = { lines.append($0) }
        let session = try Session(c)
        #expect(session.sources[0] is DirectorySource && !session.isCamera)
        #expect(lines.all.contains { $0.hasPrefix("No camera found") && $0.contains("demo photos") }, "\(lines.all)")
        session.stop()
        c.demoFolder = dir + "/missing"
        let other = try Session(c)
        #expect(other.sources[0] is SyntheticSource)
        other.stop()
    }
}

/// Log lines collected from any thread.
final class LogLines: @unchecked Sendable {
    private let monitor = Monitor()
    private var lines: [String] = []
    func append(_ line: String) { monitor.withLock { lines.append(line) } }
    var all: [String] { monitor.withLock { lines } }
}

@Suite("Frame sinks and source controls")
struct SinkAndControlTests {
    @Test("the hub hands composed frames to every sink in order and closes each once")
    func hubFansOut() {
        let hub = SinkHub()
        let a = CollectingSink(), b = CollectingSink()
        hub.attach(a)
        hub.attach(b)
        let canvas = Canvas(width: 4, height: 3)
        for t in 1...3 { hub.receive(frame: ComposedFrame(canvas: canvas, time: UInt64(t))) }
        #expect(a.frames == 3 && b.frames == 3)
        hub.closeAll()
        hub.closeAll()
        #expect(a.closed == 1 && b.closed == 1)
        hub.receive(frame: ComposedFrame(canvas: canvas, time: 4))
        #expect(a.frames == 3, "a closed sink receives nothing")
    }

    @Test("the snapshot sink writes the next composed frame once, off the calling thread, then disarms")
    func snapshotSink() throws {
        let dir = NSTemporaryDirectory() + "deepscope-snap-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sink = SnapshotSink()
        let canvas = Canvas(width: 8, height: 6)
        sink.receive(frame: ComposedFrame(canvas: canvas, time: 1))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty, "not armed: nothing written")
        sink.request(path: dir + "/k.png")
        sink.receive(frame: ComposedFrame(canvas: canvas, time: 2))
        sink.receive(frame: ComposedFrame(canvas: canvas, time: 3))
        #expect(sink.waitUntilWritten(timeout: 10 * Nanoseconds.second))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["k.png"])
        #expect(sink.takeMessages() == ["saved \(dir)/k.png"])
        #expect(sink.takeMessages().isEmpty, "each message is handed over once")
        sink.close()
        let back = try RGBAImage(contentsOfFile: dir + "/k.png")
        #expect(back.width == 8 && back.height == 6)
    }

    @Test("the status line names the source, the top three classes and the rate")
    func statusLine() {
        var top = TopThree()
        top.first = (281, 0.62); top.second = (282, 0.21); top.third = (285, 0.094); top.count = 3
        let line = StatusSink.line(seconds: 3, source: "folder demo", top: top, label: { ["tabby", "tiger cat", "Egyptian cat"][[281, 282, 285].firstIndex(of: $0)!] }, fps: 14.83)
        #expect(line == "   3.0 s  folder demo: tabby 62%, tiger cat 21%, Egyptian cat 9%  (14.8 fps)")
    }

    @Test("the status sink writes about once per interval, not per frame")
    func statusSinkRate() {
        let lines = LogLines()
        let sink = StatusSink(sourceNames: ["synthetic"], label: { "class \($0)" }, interval: 100 * Nanoseconds.millisecond,
                              write: { lines.append($0) })
        var c = Classification(frameNumber: 0, index: 1, probability: 0.5, captureTime: 0, resultTime: 0)
        c.top3.first = (1, 0.5); c.top3.count = 1
        for i in 0..<50 {   // 50 frames 10 ms apart: 0.5 s
            c.frameNumber = UInt64(i)
            c.resultTime = 1_000_000_000 + UInt64(i) * 10 * Nanoseconds.millisecond
            sink.receive(result: c)
        }
        #expect((4...5).contains(lines.all.count), "\(lines.all)")
        #expect(lines.all.first?.contains("synthetic: class 1 50%  (10") == true, "\(lines.all)")   // 100 fps
    }

    @Test("a source's own controls are a capability: a folder has them, the synthetic scene has none")
    func controlsCapability() {
        #expect(DirectorySource(path: "/tmp").controls != nil)
        #expect(SyntheticSource().controls == nil)
        #expect(ImageSource(path: "/tmp/x.png").controls == nil)
    }

    @Test("the pipeline steps any source that has controls, whatever its kind")
    func pipelineUsesTheCapability() throws {
        let source = SteppingSource()
        try source.open()
        var selection = Selection(layer: 2, channel: 0)
        selection.mode = nil
        let (pipeline, stage, request) = try LivePipelineTests.make(source, selection: selection)
        pipeline.start()
        defer { pipeline.stop() }
        #expect(waitUntil(5) { pipeline.latestClassification != nil })
        var r = request
        r.fileSteps += 2
        stage.requests.send(r)
        #expect(waitUntil(5) { source.steps == 2 })
        r.fileSteps -= 3
        stage.requests.send(r)
        #expect(waitUntil(5) { source.steps == -1 })
    }

    @Test("a slideshow folder holds each image for its time, then moves on")
    func slideshow() throws {
        let dir = try LivePipelineTests.folder([("a.png", (250, 0, 0)), ("b.png", (0, 250, 0))])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = DirectorySource(path: dir, options: SourceOptions(frameRate: 200), secondsPerImage: 0.2)
        try source.open()
        #expect(source.detail.contains("each shown for 0.2 s"))
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: source.geometry.byteCount)
        defer { buffer.deallocate() }
        var reds = 0, greens = 0, changes = 0, last: UInt8 = 0
        let start = MonotonicClock.now()
        while MonotonicClock.now() - start < 500 * Nanoseconds.millisecond {
            guard case .frame = source.read(into: buffer, timeout: Nanoseconds.second) else { continue }
            if buffer[0] > 128 { reds += 1 } else { greens += 1 }
            if buffer[0] != last { changes += 1; last = buffer[0] }
        }
        #expect(reds > 10 && greens > 10, "\(reds) red, \(greens) green frames")
        #expect((2...4).contains(changes), "\(changes) changes in 0.5 s at 0.2 s per image")
    }
}

/// A source of one grey frame whose controls count the steps asked of it.
private final class SteppingSource: FrameSource, SourceControls, @unchecked Sendable {
    private let monitor = Monitor()
    private var total = 0
    var steps: Int { monitor.withLock { total } }
    let name = "stepping test source"
    let geometry = FrameGeometry(width: 16, height: 16)
    let frameRate = 100.0
    let detail = "16×16 grey"
    var controls: (any SourceControls)? { self }
    func open() throws(CaptureError) {}
    func read(into destination: UnsafeMutablePointer<UInt8>, timeout: UInt64) -> FrameRead {
        usleep(10_000)
        destination.update(repeating: 128, count: geometry.byteCount)
        return .frame(FrameStamp(sourceSequence: 0, captureTime: MonotonicClock.now()))
    }
    func close() {}
    func step(by delta: Int) { monitor.withLock { total += delta } }
}
