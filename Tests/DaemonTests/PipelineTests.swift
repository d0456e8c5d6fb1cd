import Capture
import CaptureTesting
import Daemon
import Engine
import Foundation
import Glibc
import Imaging
import ModelIO
import Support
import Testing
import TestSupport

/// A network small enough to run hundreds of times a second: global average pool → dense → softmax.
/// With `weights` the identity, class c is the input channel with the highest mean.
func tinyNetwork(size: Int = 16, softmax: Bool = true, weights: [Float] = [1, 0, 0, 0, 1, 0, 0, 0, 1]) throws -> Network {
    var graph = Graph()
    let x = try graph.addInput(name: "input", shape: Shape([1, 3, size, size]))
    var v = try graph.addNode(name: "gap", op: .globalAveragePool, inputs: [x])
    v = try graph.addNode(name: "flatten", op: .reshape(Shape([1, 3])), inputs: [v])
    v = try graph.addNode(name: "fc", op: .dense(Dense(inFeatures: 3, outFeatures: 3, weight: weights, bias: nil)), inputs: [v])
    if softmax { v = try graph.addNode(name: "prob", op: .softmax(axis: 1), inputs: [v]) }
    graph.outputs = [v]
    return Network(graph: graph, threads: 1)
}

/// Plain 0…1 scaling, no mean or std, so the network sees the colours as they are.
func plainPreprocessing(size: Int = 16) -> Preprocessing {
    Preprocessing(inputSize: [size, size], pixelRange: 1, mean: [0, 0, 0], std: [1, 1, 1], cropFraction: 1, resize: "bilinear")
}

@Suite("Pipeline")
struct PipelineTests {
    @Test("runs frames through capture and inference, stops at the frame limit, and counts consistently")
    func frameLimit() throws {
        let source = SyntheticSource(options: SourceOptions(width: 64, height: 48, frameRate: 300))
        try source.open()
        let pipeline = try Pipeline(source: source, network: try tinyNetwork(), preprocessing: plainPreprocessing(),
                                    options: PipelineOptions(frameLimit: 25))
        pipeline.start()
        #expect(pipeline.waitUntilFinished(timeout: 10 * Nanoseconds.second))
        pipeline.stop()
        let r = pipeline.report()
        #expect(r.inferred == 25)
        #expect(r.captured >= 25)
        #expect(r.dropped == r.captured - r.inferred)
        #expect(r.preprocess.count == 25 && r.forward.count == 25 && r.latency.count == 25)
        #expect(r.forward.medianMilliseconds > 0 && r.forward.p99Milliseconds >= r.forward.medianMilliseconds)
        #expect(r.captureFramesPerSecond > 50)
        let lines = r.lines.joined(separator: "\n")
        #expect(lines.contains("captured \(r.captured), inferred 25, dropped \(r.dropped)"))
        #expect(lines.contains("preprocess  median"))
        #expect(lines.contains("forward     median"))
        let json = r.jsonObject
        #expect(json["inferred"] as? UInt64 == 25)
        #expect((json["forward"] as? [String: Any])?["p99_ms"] != nil)
    }

    @Test("the top class is the frame's dominant colour, with its softmax probability", arguments: [true, false])
    func classification(softmax: Bool) throws {
        let dir = NSTemporaryDirectory() + "deepscope-pipeline-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/green.png"
        try RGBImage(width: 40, height: 30, fill: (10, 240, 30)).writePNG(to: path)
        let source = ImageSource(path: path, options: SourceOptions(frameRate: 200))
        try source.open()
        let pipeline = try Pipeline(source: source, network: try tinyNetwork(softmax: softmax),
                                    preprocessing: plainPreprocessing(), options: PipelineOptions(frameLimit: 3))
        pipeline.start()
        #expect(pipeline.waitUntilFinished(timeout: 10 * Nanoseconds.second))
        pipeline.stop()
        let top = try #require(pipeline.latestClassification)
        #expect(top.index == 1)
        // Logits are the channel means (10, 240, 30) / 255; softmax of the largest.
        let logits: [Float] = [10, 240, 30].map { $0 / 255 }
        let expected = 1 / logits.map { expf($0 - logits[1]) }.reduce(0, +)
        #expect(abs(top.probability - expected) < 1e-5)
        #expect(top.resultTime >= top.captureTime)
    }

    @Test("a camera unplugged while running shows no signal, never ends the pipeline, and is picked up again")
    func cameraUnpluggedWhileRunning() throws {
        let system = EmulatedVideoSystem()
        system.plug("/dev/video0", model: .single(.rgb24, width: 64, height: 48, frameRates: [200]))
        let source = V4L2Source(path: "/dev/video0", system: system)
        try source.open()
        let events = Events()
        let policy = CapturePolicy(stallTimeout: 300 * Nanoseconds.millisecond, readTimeout: 20 * Nanoseconds.millisecond,
                                   initialBackoff: 10 * Nanoseconds.millisecond, maximumBackoff: 40 * Nanoseconds.millisecond)
        let pipeline = try Pipeline(source: source, network: try tinyNetwork(), preprocessing: plainPreprocessing(),
                                    options: PipelineOptions(capture: policy, frameLimit: 60), onEvent: events.add)
        pipeline.start()
        #expect(waitUntil(5) { pipeline.inferredFrames >= 10 })
        system.unplug()
        #expect(waitUntil(2) { if case .noSignal = pipeline.mailbox.state { return true } else { return false } })
        let stuck = pipeline.inferredFrames
        usleep(200_000)
        #expect(pipeline.inferredFrames <= stuck + 1, "frames inferred while the camera was away")
        #expect(!pipeline.isFinished)
        system.plug("/dev/video0")
        #expect(pipeline.waitUntilFinished(timeout: 10 * Nanoseconds.second))
        pipeline.stop()
        #expect(system.openDescriptorCount == 0 && system.mappingCount == 0 && system.allocatedBufferCount == 0)
        let lines = events.lines
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.first?.hasPrefix("Camera /dev/video0 was disconnected (ENODEV); showing no signal and reconnecting") == true)
        #expect(lines.last?.hasPrefix("Camera /dev/video0 is back after") == true)
        let r = pipeline.report()
        #expect(r.faults == 1 && r.recoveries == 1)
        #expect(r.lines.last == "faults      1 (1 recovered)")
    }

    @Test("stop streams the camera off, unmaps its buffers and closes it, and can be called twice")
    func stopReleasesCamera() throws {
        let system = EmulatedVideoSystem()
        system.plug("/dev/video0", model: .single(.rgb24, width: 64, height: 48, frameRates: [200]))
        let source = V4L2Source(path: "/dev/video0", system: system)
        try source.open()
        let pipeline = try Pipeline(source: source, network: try tinyNetwork(), preprocessing: plainPreprocessing())
        pipeline.start()
        #expect(waitUntil(5) { pipeline.inferredFrames >= 5 })
        #expect(system.isStreaming())
        let t0 = MonotonicClock.now()
        pipeline.stop()
        pipeline.stop()
        #expect(MonotonicClock.now() - t0 < Nanoseconds.second)
        #expect(!system.isStreaming())
        #expect(system.openDescriptorCount == 0 && system.mappingCount == 0 && system.allocatedBufferCount == 0)
    }

    @Test("a slow stage drops frames instead of queueing them; latency stays bounded")
    func dropsInsteadOfQueueing() throws {
        let source = SyntheticSource(options: SourceOptions(width: 320, height: 240, frameRate: 200))
        try source.open()
        let pipeline = try Pipeline(source: source, network: try tinyNetwork(size: 224), preprocessing: plainPreprocessing(size: 224),
                                    options: PipelineOptions(frameLimit: 15))
        pipeline.start()
        #expect(pipeline.waitUntilFinished(timeout: 20 * Nanoseconds.second))
        pipeline.stop()
        let r = pipeline.report()
        #expect(r.inferred == 15)
        // Latency is one frame's processing plus at most a frame's wait in the mailbox, never a backlog.
        #expect(r.latency.maximumMilliseconds < r.preprocess.maximumMilliseconds + r.forward.maximumMilliseconds + 50)
    }

    @Test("a model whose input does not match its preprocessing is refused in one sentence")
    func mismatchedModel() throws {
        let source = SyntheticSource(options: SourceOptions(width: 64, height: 48))
        #expect(throws: PipelineError("The model takes 768 input values, not an RGB image of 32×32.")) {
            try Pipeline(source: source, network: try tinyNetwork(size: 16), preprocessing: plainPreprocessing(size: 32))
        }
    }
}

/// Collects log lines from the capture thread.
final class Events: @unchecked Sendable {
    private let monitor = Monitor()
    private var items: [String] = []
    var add: @Sendable (CaptureEvent) -> Void { { [self] e in monitor.withLock { items.append(e.logLine) } } }
    var lines: [String] { monitor.withLock { items } }
}
