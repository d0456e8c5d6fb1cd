import Capture
import Daemon
import Engine
import Foundation
import Imaging
import Interface
import ModelIO
import Support
import Synchronization
import Testing
import TestSupport
import Visualization

/// The inference thread's side of the window: snapshots out, requests in.
@Suite("Live pipeline", .serialized)
struct LivePipelineTests {
    static let encoding = InputEncoding(mean: [0, 0, 0], std: [1, 1, 1], pixelRange: 1, bgr: false)

    /// A pipeline with a visual stage on the tiny network (layers: gap, flatten, fc, prob).
    static func make(_ source: any FrameSource, alternates: [any FrameSource] = [], selection: Selection)
        throws -> (Pipeline, VisualStage, LiveRequest) {
        let network = try tinyNetwork()
        let builder = SnapshotBuilder(network: network, labels: ["red", "green", "blue"], encoding: encoding)
        let request = LiveRequest(selection: selection)
        let stage = VisualStage(builder: builder, requests: RequestChannel(request))
        let pipeline = try Pipeline(source: source, alternates: alternates, network: network,
                                    preprocessing: plainPreprocessing(), visual: stage)
        return (pipeline, stage, request)
    }

    /// Waits for a published snapshot that satisfies `condition` (checked on the taken snapshot).
    static func waitForSnapshot(_ stage: VisualStage, seconds: Double = 5, _ condition: (VisualSnapshot) -> Bool) -> VisualSnapshot? {
        let deadline = MonotonicClock.now() + Nanoseconds.seconds(seconds)
        var count = stage.exchange.counts.published
        while MonotonicClock.now() < deadline {
            count = stage.exchange.waitForPublish(after: count, timeout: 100 * Nanoseconds.millisecond)
            if let s = stage.exchange.take(), condition(s) { return s }
        }
        return nil
    }

    static func folder(_ colours: [(String, (UInt8, UInt8, UInt8))]) throws -> String {
        let dir = NSTemporaryDirectory() + "deepscope-live-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, c) in colours { try RGBImage(width: 32, height: 24, fill: c).writePNG(to: dir + "/" + name) }
        return dir
    }

    @Test("snapshots show the selected layer and unit, and a new request shows in a later snapshot")
    func followsRequests() throws {
        let source = SyntheticSource(options: SourceOptions(width: 64, height: 48, frameRate: 200))
        try source.open()
        let (pipeline, stage, request) = try Self.make(source, selection: Selection(layer: 2, channel: 0, mode: .gradient))
        pipeline.start()
        defer { pipeline.stop() }
        let first = try #require(Self.waitForSnapshot(stage) { $0.layer == 2 })
        #expect(first.channels == 3 && first.fullyConnected)
        #expect(first.layerNames == ["gap", "flatten", "fc", "prob"])
        #expect(first.inputWidth == 16 && first.inputHeight == 16)
        #expect(first.hasProjection && first.projectionChannel == 0 && first.projectionMode == .gradient)
        #expect(first.stats.captureTime > 0 && first.source == "synthetic scene")
        #expect(first.top.count == 3)

        var next = request
        next.selection = Selection(layer: 0, channel: 2, mode: .guided, filter: .norm)
        stage.requests.send(next)
        let second = try #require(Self.waitForSnapshot(stage) { $0.layer == 0 && $0.channel == 2 })
        #expect(second.channels == 3 && !second.fullyConnected && second.height == 1)
        #expect(second.projectionLayer == 0 && second.projectionChannel == 2)
        #expect(second.projectionMode == .guided && second.projectionFilter == .norm)

        next.selection.mode = nil
        stage.requests.send(next)
        #expect(Self.waitForSnapshot(stage) { !$0.hasProjection } != nil, "projection off: none computed")
    }

    @Test("a frozen frame stops inference of new frames, yet a new selection still gives a snapshot")
    func frozen() throws {
        let source = SyntheticSource(options: SourceOptions(width: 64, height: 48, frameRate: 200))
        try source.open()
        let (pipeline, stage, request) = try Self.make(source, selection: Selection(layer: 2, channel: 0))
        pipeline.start()
        defer { pipeline.stop() }
        #expect(waitUntil(5) { pipeline.inferredFrames > 3 })
        var frozen = request
        frozen.frozen = true
        stage.requests.send(frozen)
        usleep(100_000)
        let held = pipeline.inferredFrames
        usleep(300_000)
        #expect(pipeline.inferredFrames == held, "no new frame inferred while frozen")
        frozen.selection.channel = 1
        stage.requests.send(frozen)
        let s = try #require(Self.waitForSnapshot(stage) { $0.channel == 1 })
        #expect(s.projectionChannel == 1)
        #expect(pipeline.inferredFrames == held)
        frozen.frozen = false
        stage.requests.send(frozen)
        #expect(waitUntil(5) { pipeline.inferredFrames > held + 3 }, "live again")
    }

    @Test("mirror and stretch change what the network sees")
    func mirrorAndStretch() throws {
        // Left third red, right two thirds blue, 48×16: the centre crop is 16×16 in the middle.
        let dir = NSTemporaryDirectory() + "deepscope-mirror-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var image = RGBImage(width: 48, height: 16, fill: (0, 0, 255))
        for y in 0..<16 { for x in 0..<20 { image.pixels[(y * 48 + x) * 3] = 255; image.pixels[(y * 48 + x) * 3 + 2] = 0 } }
        try image.writePNG(to: dir + "/split.png")
        let source = ImageSource(path: dir + "/split.png", options: SourceOptions(frameRate: 100))
        try source.open()
        let (pipeline, stage, request) = try Self.make(source, selection: Selection(layer: 2, channel: 0, mode: nil))
        pipeline.start()
        defer { pipeline.stop() }

        func leftAndRight(_ s: VisualSnapshot) -> ((UInt8, UInt8), (UInt8, UInt8)) {
            let w = s.inputWidth, row = 8 * w * 3
            return ((s.input[row], s.input[row + 2]), (s.input[row + (w - 1) * 3], s.input[row + (w - 1) * 3 + 2]))
        }
        let plain = try #require(Self.waitForSnapshot(stage) { $0.inputWidth == 16 })
        let (l0, r0) = leftAndRight(plain)
        #expect(l0.0 > 200 && r0.1 > 200, "cropped: red at the left edge (x 16…19), blue at the right")

        var r = request
        r.mirror = true
        stage.requests.send(r)
        let mirrored = try #require(Self.waitForSnapshot(stage) { s in leftAndRight(s).0.1 > 200 })
        #expect(leftAndRight(mirrored).1.0 > 200, "mirrored: red on the right")

        r.mirror = false
        r.stretch = true
        stage.requests.send(r)
        let stretched = try #require(Self.waitForSnapshot(stage) { s in leftAndRight(s).0.0 > 200 && leftAndRight(s).1.1 > 200 })
        // Stretched, the red third covers about a third of the input; cropped, only a quarter.
        let row = 8 * 16 * 3
        let redColumns = (0..<16).filter { stretched.input[row + $0 * 3] > 128 }.count
        #expect(redColumns >= 6 && redColumns <= 8, "\(redColumns) red columns of 16")
    }

    @Test("next and previous file step through a folder at once")
    func fileSteps() throws {
        let dir = try Self.folder([("1.png", (250, 10, 10)), ("2.png", (10, 250, 10)), ("3.png", (10, 10, 250))])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // One image every 100 s: only the steps move it.
        let source = DirectorySource(path: dir, options: SourceOptions(frameRate: 0.01))
        try source.open()
        let (pipeline, stage, request) = try Self.make(source, selection: Selection(layer: 3, channel: 0, mode: nil))
        pipeline.start()
        defer { pipeline.stop() }
        #expect(waitUntil(5) { pipeline.latestClassification?.index == 0 })
        var r = request
        for (step, expected) in [(1, 1), (1, 2), (1, 0), (-1, 2), (-2, 0)] {
            r.fileSteps += step
            stage.requests.send(r)
            #expect(waitUntil(5) { pipeline.latestClassification?.index == expected }, "after a step of \(step)")
        }
    }

    @Test("switching feeds reads the other source and pauses the first")
    func switchesFeeds() throws {
        let dir = try Self.folder([("red.png", (250, 10, 10)), ("blue.png", (10, 10, 250))])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let red = ImageSource(path: dir + "/red.png", options: SourceOptions(frameRate: 100))
        let blue = ImageSource(path: dir + "/blue.png", options: SourceOptions(width: 40, height: 40, frameRate: 100))
        try red.open()
        try blue.open()
        let (pipeline, stage, request) = try Self.make(red, alternates: [blue], selection: Selection(layer: 3, channel: 0, mode: nil))
        pipeline.start()
        defer { pipeline.stop() }
        #expect(waitUntil(5) { pipeline.latestClassification?.index == 0 })
        #expect(pipeline.feeds[1].capture.isPaused)
        var r = request
        r.feed = 1
        stage.requests.send(r)
        #expect(waitUntil(5) { pipeline.latestClassification?.index == 2 })
        #expect(pipeline.activeFeedIndex == 1)
        #expect(pipeline.feeds[0].capture.isPaused && !pipeline.feeds[1].capture.isPaused)
        let s = try #require(Self.waitForSnapshot(stage) { $0.source.contains("blue.png") })
        #expect(s.top.first?.index == 2)
        r.feed = 0
        stage.requests.send(r)
        #expect(waitUntil(5) { pipeline.latestClassification?.index == 0 })
    }
}

@Suite("Snapshot exchange and request channel")
struct ExchangeTests {
    @Test func latestSnapshotWinsAndNothingIsSharedBetweenProducerAndConsumer() {
        let x = SnapshotExchange()
        #expect(x.take() == nil, "nothing published yet")
        let woken = Atomic<Int>(0)
        x.onPublish = { woken.add(1, ordering: .relaxed) }
        let a = x.back
        a.message = "a"
        x.publish()
        let b = x.back
        #expect(a !== b, "the producer gets another slot")
        b.message = "b"
        x.publish()
        let taken = x.take()
        #expect(taken?.message == "b", "the newest wins; a was dropped")
        #expect(x.take() == nil, "taken once")
        #expect(x.front === taken)
        // The producer's next slot is never the one the consumer holds.
        for _ in 0..<10 {
            #expect(x.back !== x.front)
            x.publish()
        }
        #expect(x.counts.published == 12 && x.counts.taken == 1)
        #expect(woken.load(ordering: .relaxed) == 12, "every publish wakes the consumer")
    }

    @Test func requestsCarryVersionsAndWaitersWake() {
        let channel = RequestChannel(LiveRequest(selection: Selection(layer: 0, channel: 0)))
        let (r0, v0) = channel.current
        channel.send(r0)
        #expect(channel.current.version == v0, "an equal request is not a change")
        var changed = r0
        changed.frozen = true
        let r1 = changed
        let start = MonotonicClock.now()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) { channel.send(r1) }
        let (got, v1) = channel.wait(after: v0, timeout: 5 * Nanoseconds.second)
        #expect(got.frozen && v1 == v0 + 1)
        #expect(MonotonicClock.now() - start < 4 * Nanoseconds.second, "woken by the send, not the timeout")
    }
}

@Suite("Projection cache")
struct ProjectionCacheTests {
    static func snapshot(value: UInt8) -> VisualSnapshot {
        let s = VisualSnapshot()
        let px = [UInt8](repeating: value, count: 4 * 4 * 3)
        px.withUnsafeBufferPointer { s.setProjection($0, width: 4, height: 4) }
        s.projectionMode = .deconv
        s.projectionLayer = 2
        s.projectionChannel = 5
        return s
    }

    @Test func reusesOnlyTheSameUnitModeAndFilter() {
        let cache = ProjectionCache()
        let sel = Selection(layer: 2, channel: 5, mode: .deconv, filter: .raw)
        #expect(!cache.matches(sel), "empty")
        cache.store(Self.snapshot(value: 77), selection: sel)
        #expect(cache.matches(sel))
        var other = sel; other.channel = 6
        #expect(!cache.matches(other))
        other = sel; other.mode = .guided
        #expect(!cache.matches(other))
        other = sel; other.filter = .norm
        #expect(!cache.matches(other))
        other = sel; other.position = Selection.Position(y: 1, x: 1)
        #expect(!cache.matches(other), "another seed position is another projection")
        other = sel; other.gridGradient = true
        #expect(!cache.matches(other), "the gradient view needs this frame's backward pass")
        other = sel; other.layer = 9; other.origin = Selection.Origin(layer: 2, channel: 5)
        #expect(cache.matches(other), "pinned to the same unit: the same projection")

        let target = VisualSnapshot()
        cache.restore(into: target)
        #expect(target.projection == [UInt8](repeating: 77, count: 48))
        #expect(target.projectionLayer == 2 && target.projectionChannel == 5 && target.projectionMode == .deconv)
    }

    @Test("without adaptive projection every snapshot gets its own projection")
    func everySnapshotProjected() throws {
        let source = SyntheticSource(options: SourceOptions(width: 64, height: 48, frameRate: 1000))
        try source.open()
        let (pipeline, stage, _) = try LivePipelineTests.make(source, selection: Selection(layer: 2, channel: 1, mode: .deconv))
        stage.adaptiveProjection = false
        pipeline.start()
        #expect(waitUntil(5) { stage.projectionCounts.snapshots >= 20 })
        pipeline.stop()
        let (snapshots, projected) = stage.projectionCounts
        #expect(projected == snapshots)
    }
}
