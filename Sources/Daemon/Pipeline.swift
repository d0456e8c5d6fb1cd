// The pipeline: capture thread → FrameMailbox → inference thread (preprocess → forward → top-1,
// and with a window: projection → VisualSnapshot → SnapshotExchange → UI thread).
//
// Every buffer a frame touches is allocated here, before the threads start: the mailbox's three
// slots, the resampled input image, the network's arena, the projector's gradient arena (and the
// snapshots, on their first frame). In steady state no thread allocates.
// A slow inference thread drops frames (the mailbox keeps only the newest), it never delays capture.

import Capture
import Engine
import ModelIO
import Support
import Visualization

/// The network's best class for one frame.
public struct Classification: Sendable, Equatable {
    /// The mailbox number of the frame classified.
    public var frameNumber: UInt64
    /// The output index of the top class.
    public var index: Int
    /// Its probability (the softmax of the output where the network does not end in one).
    public var probability: Float
    /// `MonotonicClock` nanoseconds: when the frame was captured, and when its result was ready.
    public var captureTime: UInt64
    public var resultTime: UInt64
}

/// What the pipeline is asked to do.
public struct PipelineOptions: Sendable {
    /// Stall timeout and reconnect backoff of the capture thread.
    public var capture: CapturePolicy
    /// Stop after this many inferred frames; nil runs until `stop`.
    public var frameLimit: Int?

    public init(capture: CapturePolicy = CapturePolicy(), frameLimit: Int? = nil) {
        self.capture = capture
        self.frameLimit = frameLimit
    }
}

/// One source and what it needs: its mailbox, its capture thread and the input preparer sized for
/// its frames. A pipeline has one or more; the window switches between them.
public final class Feed: @unchecked Sendable {
    public let source: any FrameSource
    /// The source's name, kept so the frame loop never formats it.
    public let name: String
    /// Nanoseconds between the source's frames (0: as fast as it can).
    public let frameInterval: UInt64
    public let mailbox: FrameMailbox
    public let capture: CaptureThread
    public let preparer: InputPreparer

    /// "image /a/b/cat.png" → "image cat.png": the status line has no room for whole paths.
    static func shortName(_ name: String) -> String {
        guard let space = name.firstIndex(of: " "), name.hasPrefix("camera") == false else { return name }
        let path = name[name.index(after: space)...]
        guard let slash = path.lastIndex(of: "/"), path.index(after: slash) < path.endIndex else { return name }
        return String(name[..<space]) + " " + String(path[path.index(after: slash)...])
    }

    init(source: any FrameSource, network: Network, preprocessing: Preprocessing, policy: CapturePolicy,
         onEvent: @escaping @Sendable (CaptureEvent) -> Void) throws(PipelineError) {
        self.source = source
        name = Feed.shortName(source.name)
        frameInterval = source.frameRate > 0 ? UInt64(1e9 / source.frameRate) : 0
        preparer = try InputPreparer(preprocessing: preprocessing, frame: source.geometry, inputCount: network.input.count)
        mailbox = FrameMailbox(geometry: source.geometry)
        capture = CaptureThread(source: source, mailbox: mailbox, policy: policy, onEvent: onEvent)
    }
}

/// What the inference thread does for a window after each forward pass: the selected unit's
/// projection and a `VisualSnapshot` of the frame, handed over through the exchange, with the
/// window's requests read from the channel.
public final class VisualStage: @unchecked Sendable {
    public let builder: SnapshotBuilder
    public let exchange: SnapshotExchange
    public let requests: RequestChannel
    /// Per snapshot: projection, rendering and copying into the snapshot (nanoseconds).
    public let fillTimes = TimingRecorder()
    /// When false, every snapshot gets a freshly computed projection. When true (the default),
    /// a frame arriving while inference is behind the source reuses the previous frame's projection
    /// of the same unit (at most every other frame), so that frames keep flowing at the source's
    /// rate on a CPU that cannot do both on every frame.
    public var adaptiveProjection = true
    let cache = ProjectionCache()
    /// Snapshots published and projections computed for them.
    private let counts = Monitor()
    private var snapshots: UInt64 = 0
    private var projections: UInt64 = 0

    /// Snapshots published so far, and how many of them got a projection computed for them.
    public var projectionCounts: (snapshots: UInt64, projected: UInt64) { counts.withLock { (snapshots, projections) } }

    func count(projected: Bool) {
        counts.withLock {
            snapshots += 1
            if projected { projections += 1 }
        }
    }

    public init(builder: SnapshotBuilder, exchange: SnapshotExchange = SnapshotExchange(), requests: RequestChannel) {
        self.builder = builder
        self.exchange = exchange
        self.requests = requests
    }
}

/// The long-lived threads of DeepScope and what they share.
public final class Pipeline: @unchecked Sendable {
    /// Every source the pipeline can switch between; the first is active at start.
    public let feeds: [Feed]
    public var source: any FrameSource { feeds[0].source }
    public var mailbox: FrameMailbox { feeds[0].mailbox }
    public var capture: CaptureThread { feeds[0].capture }
    public var preparer: InputPreparer { feeds[0].preparer }
    public let network: Network
    public let options: PipelineOptions
    /// The window's stage, when there is a window (or a test standing in for one).
    public let visual: VisualStage?

    /// Per inferred frame, in nanoseconds: crop + resize + normalize, the forward pass, and the
    /// time from capture to the result (the top-1 class, or the snapshot with a window).
    public let preprocessTimes = TimingRecorder()
    public let forwardTimes = TimingRecorder()
    public let latencies = TimingRecorder()

    private let output: Int
    private let outputIsProbability: Bool
    private let monitor = Monitor()
    private var inference: WorkerThread?
    private var stopping = false
    private var stopped = false
    private var finished = false
    private var inferred: UInt64 = 0
    private var latest: Classification?
    private var startTime: UInt64 = 0
    private var inferenceElapsed: UInt64 = 0
    private var activeFeed = 0
    /// The newest capture event, for the window's status line ("" when frames flow).
    private var eventMessage = ""

    /// Plans a pipeline; nothing runs until `start`.
    /// - Parameters:
    ///   - source: an opened source; its geometry sizes the mailbox.
    ///   - alternates: more opened sources the window can switch to (their capture threads start
    ///     paused).
    ///   - network: the planned network; only the inference thread touches it once started.
    ///   - preprocessing: the model's preprocessing spec.
    ///   - options: frame limit and capture policy.
    ///   - visual: the window's stage; nil runs headless.
    ///   - onEvent: capture faults and recoveries, called on the capture thread.
    /// - Throws: `PipelineError` when the model's input or output cannot be used.
    public init(source: any FrameSource, alternates: [any FrameSource] = [], network: Network, preprocessing: Preprocessing,
                options: PipelineOptions = PipelineOptions(), visual: VisualStage? = nil,
                onEvent: @escaping @Sendable (CaptureEvent) -> Void = { _ in }) throws(PipelineError) {
        guard let out = network.graph.outputs.first else { throw PipelineError("The model declares no output.") }
        self.network = network
        self.options = options
        self.visual = visual
        output = out
        outputIsProbability = TopClasses.isProbability(out, in: network.graph)
        var made: [Feed] = []
        let box = WeakPipeline()
        for s in [source] + alternates {
            made.append(try Feed(source: s, network: network, preprocessing: preprocessing, policy: options.capture,
                                 onEvent: { event in
                                     box.pipeline?.noteEvent(event)
                                     onEvent(event)
                                 }))
        }
        feeds = made
        box.pipeline = self
    }

    deinit { stop() }

    /// Starts the capture and inference threads (the alternates' capture paused).
    public func start() {
        monitor.withLock {
            precondition(inference == nil, "the pipeline was started twice")
            startTime = MonotonicClock.now()
        }
        for (i, f) in feeds.enumerated() {
            if i > 0 { f.capture.setPaused(true) }
            f.capture.start()
        }
        let worker = WorkerThread(name: "ds-inference") { [self] in runInference() }
        monitor.withLock { inference = worker }
    }

    /// Stops every thread and closes the sources (a camera is streamed off, its buffers unmapped
    /// and its descriptor closed). Idempotent.
    public func stop() {
        let (first, worker): (Bool, WorkerThread?) = monitor.withLock {
            defer {
                stopped = true
                stopping = true
            }
            return (!stopped, inference)
        }
        guard first else { return }
        guard let worker else {
            // Never started: the capture threads never took the sources over.
            for f in feeds { f.source.close() }
            return
        }
        for f in feeds {
            f.capture.stop()
            f.mailbox.close()
        }
        worker.join()
    }

    /// True once the frame limit has been reached.
    public var isFinished: Bool { monitor.withLock { finished } }

    /// Waits up to `timeout` nanoseconds for the frame limit; returns `isFinished`.
    public func waitUntilFinished(timeout: UInt64) -> Bool {
        let deadline = MonotonicClock.now() &+ timeout
        monitor.lock()
        defer { monitor.unlock() }
        while !finished && !stopping {
            if !monitor.wait(until: deadline) { break }
        }
        return finished
    }

    /// The newest result, if any frame has been classified.
    public var latestClassification: Classification? { monitor.withLock { latest } }

    /// Frames inferred so far.
    public var inferredFrames: UInt64 { monitor.withLock { inferred } }

    /// The feed the network is reading.
    public var activeFeedIndex: Int { monitor.withLock { activeFeed } }

    fileprivate func noteEvent(_ event: CaptureEvent) {
        let line: String
        if case .recovered = event { line = "" } else { line = event.logLine }
        monitor.withLock { eventMessage = line }
    }

    // MARK: - The inference thread

    private func runInference() {
        let input = network.input.baseAddress!
        let limit = options.frameLimit.map { UInt64($0) } ?? .max
        var active = 0
        var seen: UInt64 = .max
        var request = visual?.requests.current.request
        var stepsSeen = request?.fileSteps ?? 0
        // The frame the network saw last; valid until the next successful acquire on its mailbox.
        var held: MailboxFrame?
        var rates = RateMeter()
        var projectedLast = true
        var lastCycle: UInt64 = 0
        while !monitor.withLock({ stopping }) {
            var reprepare = false, redraw = false
            if let visual {
                let (r, v) = visual.requests.current
                if v != seen {
                    seen = v
                    request = r
                    redraw = true
                    if r.feed != active, r.feed >= 0, r.feed < feeds.count {
                        feeds[active].capture.setPaused(true)
                        active = r.feed
                        feeds[active].capture.setPaused(false)
                        monitor.withLock { activeFeed = active; eventMessage = "" }
                        held = nil
                        rates = RateMeter()
                    }
                    let p = feeds[active].preparer
                    if p.mirror != r.mirror || p.stretch != r.stretch {
                        p.mirror = r.mirror
                        p.stretch = r.stretch
                        reprepare = true
                    }
                    if r.fileSteps != stepsSeen {
                        if let folder = feeds[active].source as? DirectorySource { folder.step(by: r.fileSteps - stepsSeen) }
                        stepsSeen = r.fileSteps
                    }
                }
            }
            let feed = feeds[active]
            var frame: MailboxFrame?
            if request?.frozen == true && held != nil {
                if !reprepare && !redraw {
                    _ = visual!.requests.wait(after: seen, timeout: 100 * Nanoseconds.millisecond)
                    continue
                }
            } else {
                // With a window, wake often enough to pick up requests between frames.
                frame = feed.mailbox.acquire(timeout: (visual == nil ? 100 : 10) * Nanoseconds.millisecond)
                if let frame { held = frame } else if !reprepare && !redraw { continue }
            }
            guard let current = held else { continue }

            let t0 = MonotonicClock.now()
            if frame != nil || reprepare {
                feed.preparer.prepare(current.pixels, into: input)
            }
            let t1 = MonotonicClock.now()
            if frame != nil || reprepare {
                network.forward()
            }
            let t2 = MonotonicClock.now()
            let (index, probability) = topClass()
            if let visual, let request {
                // Behind: the last cycle took longer than the source's frame interval.
                let behind = feed.frameInterval > 0 && lastCycle > feed.frameInterval
                produce(visual, request: request, feed: feed, stamp: current.stamp, behind: behind,
                        projectedLast: &projectedLast, rates: &rates)
            }
            let t3 = MonotonicClock.now()
            guard frame != nil else { continue }
            lastCycle = t3 - t0
            preprocessTimes.record(t1 - t0)
            forwardTimes.record(t2 - t1)
            latencies.record(t3 &- current.stamp.captureTime)
            let result = Classification(frameNumber: current.number, index: index, probability: probability,
                                        captureTime: current.stamp.captureTime, resultTime: t3)
            let done: Bool = monitor.withLock {
                inferred += 1
                latest = result
                inferenceElapsed = t3 - startTime
                if inferred >= limit { finished = true }
                return finished
            }
            if done {
                monitor.broadcast()
                return
            }
        }
    }

    /// Projects the selected unit and fills the exchange's back snapshot, then publishes it.
    /// `behind`: the inference thread is slower than the source, so the projection may be reused.
    private func produce(_ visual: VisualStage, request: LiveRequest, feed: Feed, stamp: FrameStamp, behind: Bool,
                         projectedLast: inout Bool, rates: inout RateMeter) {
        let t0 = MonotonicClock.now()
        let snap = visual.exchange.back
        let selection = request.selection
        let reuse = selection.mode != nil && visual.adaptiveProjection && behind && projectedLast && visual.cache.matches(selection)
        do {
            try visual.builder.fill(snap, selection: selection, project: !reuse)
        } catch {
            // The window keeps selections valid; a stale one is skipped until the next request.
            return
        }
        if reuse {
            visual.cache.restore(into: snap)
        } else if selection.mode != nil {
            visual.cache.store(snap, selection: selection)
        }
        projectedLast = !reuse
        visual.count(projected: selection.mode != nil && !reuse)
        let now = MonotonicClock.now()
        visual.fillTimes.record(now - t0)
        let (count, message): (UInt64, String) = monitor.withLock { (inferred, eventMessage) }
        rates.update(now: now, captured: feed.capture.counters.frames, inferred: count)
        snap.source = feed.name
        snap.stats.captureFPS = rates.captureFPS
        snap.stats.inferenceFPS = rates.inferenceFPS
        snap.stats.latencyMs = Float(Double(now &- stamp.captureTime) / 1e6)
        snap.stats.dropped = Int(feed.mailbox.statistics.dropped)
        snap.stats.frame = Int(count)
        snap.stats.captureTime = stamp.captureTime
        if case .noSignal = feed.mailbox.state {
            snap.message = message.isEmpty ? "no signal" : message
        } else if case .ended = feed.mailbox.state {
            snap.message = "the source ended; holding its last frame"
        } else {
            snap.message = request.frozen ? "frozen" : ""
        }
        visual.exchange.publish()
    }

    /// The index and probability of the largest output. Allocates nothing.
    private func topClass() -> (Int, Float) {
        var top = ClassScore.zero
        _ = withUnsafeMutablePointer(to: &top) {
            TopClasses.write(UnsafeBufferPointer(network.buffer(output)), isProbability: outputIsProbability,
                             into: UnsafeMutableBufferPointer(start: $0, count: 1))
        }
        return (top.index, top.probability)
    }

    // MARK: - Report

    /// Counts and timings so far (or of the whole run, after `stop`).
    public func report() -> PipelineReport {
        let (inferredCount, inferenceTime, active) = monitor.withLock { (inferred, inferenceElapsed, activeFeed) }
        let feed = feeds[active]
        let c = feed.capture.counters
        return PipelineReport(source: feed.source.name, detail: feed.source.detail, captured: c.frames, inferred: inferredCount,
                              elapsedSeconds: Double(c.elapsedNanoseconds) / 1e9,
                              inferenceSeconds: Double(inferenceTime) / 1e9,
                              captureFramesPerSecond: c.framesPerSecond, captureCPU: feed.capture.frameCPUTimes.summary(),
                              preprocess: preprocessTimes.summary(), forward: forwardTimes.summary(),
                              latency: latencies.summary(), faults: c.faults, recoveries: c.recoveries,
                              state: feed.mailbox.state)
    }
}

/// Lets the capture threads' event callback reach the pipeline without keeping it alive.
private final class WeakPipeline: @unchecked Sendable {
    weak var pipeline: Pipeline?
}

/// Capture and inference frame rates over the last second or so.
struct RateMeter {
    private var markTime: UInt64 = 0
    private var markCaptured: UInt64 = 0
    private var markInferred: UInt64 = 0
    private(set) var captureFPS: Float = 0
    private(set) var inferenceFPS: Float = 0

    mutating func update(now: UInt64, captured: UInt64, inferred: UInt64) {
        if markTime == 0 {
            markTime = now; markCaptured = captured; markInferred = inferred
            return
        }
        let dt = Double(now &- markTime) / 1e9
        guard dt >= 0.5 else { return }
        captureFPS = Float(Double(captured &- markCaptured) / dt)
        inferenceFPS = Float(Double(inferred &- markInferred) / dt)
        markTime = now; markCaptured = captured; markInferred = inferred
    }
}

#if canImport(Glibc)
import Glibc
#endif
