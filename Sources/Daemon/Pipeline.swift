// The pipeline: capture thread → FrameMailbox → inference thread (preprocess → forward → top-1).
//
// Every buffer a frame touches is allocated here, before the threads start: the mailbox's three
// slots, the resampled input image, the network's arena. In steady state neither thread allocates.
// A slow inference thread drops frames (the mailbox keeps only the newest), it never delays capture.

import Capture
import Engine
import ModelIO

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

/// The two long-lived threads of headless DeepScope and what they share.
public final class Pipeline: @unchecked Sendable {
    public let source: any FrameSource
    public let mailbox: FrameMailbox
    public let capture: CaptureThread
    public let network: Network
    public let preparer: InputPreparer
    public let options: PipelineOptions

    /// Per inferred frame, in nanoseconds: crop + resize + normalize, the forward pass, and the
    /// time from capture to the top-1 result.
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

    /// Plans a pipeline; nothing runs until `start`.
    /// - Parameters:
    ///   - source: an opened source; its geometry sizes the mailbox.
    ///   - network: the planned network; only the inference thread touches it once started.
    ///   - preprocessing: the model's preprocessing spec.
    ///   - options: frame limit and capture policy.
    ///   - onEvent: capture faults and recoveries, called on the capture thread.
    /// - Throws: `PipelineError` when the model's input or output cannot be used.
    public init(source: any FrameSource, network: Network, preprocessing: Preprocessing,
                options: PipelineOptions = PipelineOptions(),
                onEvent: @escaping @Sendable (CaptureEvent) -> Void = { _ in }) throws(PipelineError) {
        guard let out = network.graph.outputs.first else { throw PipelineError("The model declares no output.") }
        self.source = source
        self.network = network
        self.options = options
        output = out
        if let node = network.graph.node(producing: out), case .softmax = node.op {
            outputIsProbability = true
        } else {
            outputIsProbability = false
        }
        preparer = try InputPreparer(preprocessing: preprocessing, frame: source.geometry, inputCount: network.input.count)
        mailbox = FrameMailbox(geometry: source.geometry)
        capture = CaptureThread(source: source, mailbox: mailbox, policy: options.capture, onEvent: onEvent)
    }

    deinit { stop() }

    /// Starts the capture and inference threads.
    public func start() {
        monitor.withLock {
            precondition(inference == nil, "the pipeline was started twice")
            startTime = MonotonicClock.now()
        }
        capture.start()
        let worker = WorkerThread(name: "ds-inference") { [self] in runInference() }
        monitor.withLock { inference = worker }
    }

    /// Stops both threads and closes the source (a camera is streamed off, its buffers unmapped and
    /// its descriptor closed). Idempotent.
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
            // Never started: the capture thread never took the source over.
            source.close()
            return
        }
        capture.stop()
        mailbox.close()
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

    // MARK: - The inference thread

    private func runInference() {
        let input = network.input.baseAddress!
        let limit = options.frameLimit.map { UInt64($0) } ?? .max
        while !monitor.withLock({ stopping }) {
            guard let frame = mailbox.acquire(timeout: 100 * Nanoseconds.millisecond) else { continue }
            let t0 = MonotonicClock.now()
            preparer.prepare(frame.pixels, into: input)
            let t1 = MonotonicClock.now()
            network.forward()
            let t2 = MonotonicClock.now()
            let (index, probability) = topClass()
            let t3 = MonotonicClock.now()
            preprocessTimes.record(t1 - t0)
            forwardTimes.record(t2 - t1)
            latencies.record(t3 &- frame.stamp.captureTime)
            let result = Classification(frameNumber: frame.number, index: index, probability: probability,
                                        captureTime: frame.stamp.captureTime, resultTime: t3)
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

    /// The index and probability of the largest output. Allocates nothing.
    private func topClass() -> (Int, Float) {
        let scores = network.buffer(output)
        guard !scores.isEmpty else { return (0, 0) }
        var best = 0
        var top = scores[0]
        for i in 1..<scores.count where scores[i] > top {
            top = scores[i]
            best = i
        }
        if outputIsProbability { return (best, top) }
        var sum: Float = 0
        for s in scores { sum += expf(s - top) }
        return (best, 1 / sum)
    }

    // MARK: - Report

    /// Counts and timings so far (or of the whole run, after `stop`).
    public func report() -> PipelineReport {
        let c = capture.counters
        let (inferredCount, inferenceTime) = monitor.withLock { (inferred, inferenceElapsed) }
        return PipelineReport(source: source.name, detail: source.detail, captured: c.frames, inferred: inferredCount,
                              elapsedSeconds: Double(c.elapsedNanoseconds) / 1e9,
                              inferenceSeconds: Double(inferenceTime) / 1e9,
                              captureFramesPerSecond: c.framesPerSecond, captureCPU: capture.frameCPUTimes.summary(),
                              preprocess: preprocessTimes.summary(), forward: forwardTimes.summary(),
                              latency: latencies.summary(), faults: c.faults, recoveries: c.recoveries,
                              state: mailbox.state)
    }
}

#if canImport(Glibc)
import Glibc
#endif
