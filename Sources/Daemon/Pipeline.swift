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
    /// Called on the inference thread with every frame's result (the session hands it to its frame
    /// sinks). Set before `start`; it must return at once.
    public var onResult: (@Sendable (Classification) -> Void)?
    /// Called on the inference thread at every turn of its loop, frames or not (the service
    /// manager's watchdog: it stops when the loop stalls). Set before `start`; it must return at once.
    public var onHeartbeat: (@Sendable () -> Void)?
    /// Sees each new frame before the network reads it, and each request taken over (a session
    /// recorder). Set before `start`.
    public var inputObserver: (any InputObserver)?

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
        let observer = inputObserver
        if let request { observer?.request(request) }
        while !monitor.withLock({ stopping }) {
            onHeartbeat?()
            var reprepare = false, redraw = false
            if let visual {
                let (r, v) = visual.requests.current
                if v != seen {
                    seen = v
                    request = r
                    observer?.request(r)
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
                        feeds[active].controls?.step(by: r.fileSteps - stepsSeen)
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
                if let frame {
                    held = frame
                    observer?.input(frame, feed: active)
                } else if !reprepare && !redraw { continue }
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
            let top = topClasses()
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
            let result = Classification(frameNumber: current.number, index: top.first.index, probability: top.first.probability,
                                        captureTime: current.stamp.captureTime, resultTime: t3, top3: top, feed: active)
            onResult?(result)
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

    /// The three largest outputs with their probabilities (`TopClasses`, Engine). Allocates nothing.
    private func topClasses() -> TopThree {
        var slots = (ClassScore.zero, ClassScore.zero, ClassScore.zero)
        // A homogeneous tuple is laid out like an array of its element (count 3, not bytes / stride:
        // the last element has no tail padding).
        let n = withUnsafeMutablePointer(to: &slots) { tuple in
            tuple.withMemoryRebound(to: ClassScore.self, capacity: 3) { first in
                TopClasses.write(UnsafeBufferPointer(network.buffer(output)), isProbability: outputIsProbability,
                                 into: UnsafeMutableBufferPointer(start: first, count: 3))
            }
        }
        var top = TopThree()
        top.first = (slots.0.index, slots.0.probability)
        top.second = (slots.1.index, slots.1.probability)
        top.third = (slots.2.index, slots.2.probability)
        top.count = n
        return top
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

#if canImport(Glibc)
import Glibc
#endif
