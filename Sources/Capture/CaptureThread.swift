// The capture thread: reads a source into the mailbox, forever, surviving faults.

import Support

/// How the capture thread waits, detects stalls and retries.
public struct CapturePolicy: Sendable, Equatable {
    /// A streaming source that delivers no frame for this long is restarted (nanoseconds).
    public var stallTimeout: UInt64
    /// The longest single wait for a frame; bounds how long `stop` takes (nanoseconds).
    public var readTimeout: UInt64
    /// The first wait before reopening a faulted source; doubles per failed attempt (nanoseconds).
    public var initialBackoff: UInt64
    /// The longest wait between attempts (nanoseconds).
    public var maximumBackoff: UInt64

    public init(stallTimeout: UInt64 = 2 * Nanoseconds.second, readTimeout: UInt64 = 100 * Nanoseconds.millisecond,
                initialBackoff: UInt64 = 250 * Nanoseconds.millisecond, maximumBackoff: UInt64 = 4 * Nanoseconds.second) {
        self.stallTimeout = stallTimeout
        self.readTimeout = readTimeout
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
    }
}

/// Something the capture thread reports (on its own thread) for a log line.
public enum CaptureEvent: Sendable, Equatable {
    /// A fault began, or changed kind while reconnecting; repeats of the same fault are not reported.
    case fault(CaptureFault, retryingIn: UInt64)
    /// Frames flow again after a fault that lasted `downtime` nanoseconds.
    case recovered(source: String, detail: String, downtime: UInt64)
    /// The source has no more frames.
    case ended(source: String)
}

/// The capture thread's counts.
public struct CaptureCounters: Sendable, Equatable {
    /// Frames published to the mailbox.
    public var frames: UInt64 = 0
    /// Fault episodes (a fault and its retries count once).
    public var faults = 0
    /// Attempts to reopen the source.
    public var reopenAttempts = 0
    /// Episodes that ended with frames flowing again.
    public var recoveries = 0
    /// CPU time the capture thread used.
    public var cpuNanoseconds: UInt64 = 0
    /// Wall time since the thread started (until it stopped).
    public var elapsedNanoseconds: UInt64 = 0

    /// Frames per second over the whole run.
    public var framesPerSecond: Double {
        elapsedNanoseconds > 0 ? Double(frames) / (Double(elapsedNanoseconds) / 1e9) : 0
    }
}

/// Reads frames from an opened source into a mailbox on a thread of its own.
///
/// On a fault (unplugged, I/O error, busy, refused format) or a stall (no frame for
/// `policy.stallTimeout`), the thread closes the source, reports the fault once through `onEvent`,
/// sets the mailbox's state to `.noSignal`, and reopens the source with exponential backoff until
/// frames flow again, which it reports too. It never ends on its own except when the source ends.
public final class CaptureThread: @unchecked Sendable {
    public let source: any FrameSource
    public let mailbox: FrameMailbox
    public let policy: CapturePolicy
    /// CPU time per published frame (nanoseconds), including the wait's system calls.
    public let frameCPUTimes = TimingRecorder()

    private let onEvent: @Sendable (CaptureEvent) -> Void
    private let monitor = Monitor()
    private var stopping = false
    private var paused = false
    private var thread: WorkerThread?
    private var counts = CaptureCounters()
    private var startTime: UInt64 = 0
    private var sourceOpen = true

    /// - Parameters:
    ///   - source: an opened source whose geometry is the mailbox's.
    ///   - mailbox: where frames go.
    ///   - policy: stall timeout and backoff.
    ///   - onEvent: called on the capture thread when a fault starts or ends.
    public init(source: any FrameSource, mailbox: FrameMailbox, policy: CapturePolicy = CapturePolicy(),
                onEvent: @escaping @Sendable (CaptureEvent) -> Void = { _ in }) {
        precondition(source.geometry == mailbox.geometry,
                     "the source delivers \(source.geometry) frames, the mailbox holds \(mailbox.geometry)")
        self.source = source
        self.mailbox = mailbox
        self.policy = policy
        self.onEvent = onEvent
    }

    deinit { stop() }

    /// Starts the thread.
    public func start() {
        monitor.withLock {
            precondition(thread == nil, "the capture thread was started twice")
            startTime = MonotonicClock.now()
        }
        let worker = WorkerThread(name: "ds-capture") { [self] in run() }
        monitor.withLock { thread = worker }
    }

    /// Stops the thread and closes the source (streaming off, buffers unmapped, device closed).
    /// Returns within about `policy.readTimeout`. Idempotent.
    public func stop() {
        let thread: WorkerThread? = monitor.withLock {
            stopping = true
            return self.thread
        }
        monitor.broadcast()
        thread?.join()
    }

    /// Pauses or resumes capture. A paused thread closes its source (a camera stops streaming and
    /// is released) and reopens it when resumed; the mailbox keeps its last frame.
    public func setPaused(_ value: Bool) {
        monitor.withLock { paused = value }
        monitor.broadcast()
    }

    /// Whether capture is paused.
    public var isPaused: Bool { monitor.withLock { paused } }

    /// The counts so far.
    public var counters: CaptureCounters {
        monitor.withLock {
            var c = counts
            if !stopping || c.elapsedNanoseconds == 0 { c.elapsedNanoseconds = MonotonicClock.now() - startTime }
            return c
        }
    }

    private var shouldStop: Bool { monitor.withLock { stopping } }

    // MARK: - The loop

    private func run() {
        var lastFrame = MonotonicClock.now()
        var backoff = policy.initialBackoff
        var fault: CaptureFault?
        var faultStart: UInt64 = 0
        var cpuMark = MonotonicClock.threadCPUTime()
        var live = false

        func enterFault(_ f: CaptureFault) {
            if fault == nil {
                faultStart = MonotonicClock.now()
                monitor.withLock { counts.faults += 1 }
            }
            if fault?.kind != f.kind { onEvent(.fault(f, retryingIn: backoff)) }
            fault = f
            live = false
            mailbox.setState(.noSignal(f))
        }

        /// Waits `backoff` (or until stopped), then doubles it.
        func waitBeforeRetry() {
            let deadline = MonotonicClock.now() &+ backoff
            monitor.lock()
            while !stopping && MonotonicClock.now() < deadline { monitor.wait(until: deadline) }
            monitor.unlock()
            backoff = min(backoff * 2, policy.maximumBackoff)
        }

        while !shouldStop {
            if monitor.withLock({ paused }) {
                if sourceOpen {
                    source.close()
                    sourceOpen = false
                }
                monitor.lock()
                while paused && !stopping { monitor.wait(until: MonotonicClock.now() &+ Nanoseconds.second) }
                monitor.unlock()
                continue
            }
            if !sourceOpen {
                monitor.withLock { counts.reopenAttempts += 1 }
                do {
                    try source.open()
                    sourceOpen = true
                    lastFrame = MonotonicClock.now()
                    cpuMark = MonotonicClock.threadCPUTime()
                } catch {
                    enterFault(error.fault(source: source.name))
                    waitBeforeRetry()
                    continue
                }
            }
            let now = MonotonicClock.now()
            let stallAt = lastFrame &+ policy.stallTimeout
            let wait = stallAt > now ? min(policy.readTimeout, stallAt - now) : 0
            switch source.read(into: mailbox.producerBuffer, timeout: wait) {
            case .frame(let stamp):
                mailbox.publish(stamp)
                let cpu = MonotonicClock.threadCPUTime()
                frameCPUTimes.record(cpu &- cpuMark)
                cpuMark = cpu
                lastFrame = MonotonicClock.now()
                monitor.withLock {
                    counts.frames += 1
                    counts.cpuNanoseconds = cpu
                }
                if let recovered = fault {
                    backoff = policy.initialBackoff
                    fault = nil
                    monitor.withLock { counts.recoveries += 1 }
                    onEvent(.recovered(source: recovered.source, detail: source.detail, downtime: lastFrame - faultStart))
                }
                if !live {
                    live = true
                    mailbox.setState(.live)
                }
            case .timeout:
                if MonotonicClock.now() >= lastFrame &+ policy.stallTimeout {
                    source.close()
                    sourceOpen = false
                    enterFault(.stalled(source: source.name, seconds: Double(policy.stallTimeout) / 1e9))
                    waitBeforeRetry()
                }
            case .fault(let f):
                source.close()
                sourceOpen = false
                enterFault(f)
                waitBeforeRetry()
            case .ended:
                mailbox.setState(.ended)
                onEvent(.ended(source: source.name))
                monitor.lock()
                while !stopping { monitor.wait(until: MonotonicClock.now() &+ Nanoseconds.second) }
                monitor.unlock()
            }
        }
        if sourceOpen {
            source.close()
            sourceOpen = false
        }
        monitor.withLock {
            counts.cpuNanoseconds = MonotonicClock.threadCPUTime()
            counts.elapsedNanoseconds = MonotonicClock.now() - startTime
        }
    }
}

/// Makes the source a spec names.
public enum SourceFactory {
    /// - Parameters:
    ///   - spec: a parsed source spec.
    ///   - system: where V4L2 calls go (`LibV4L2System()` for real cameras).
    /// - Returns: an unopened source.
    public static func make(_ spec: SourceSpec, system: any VideoDeviceSystem) -> any FrameSource {
        switch spec {
        case .camera(let path, let options): return V4L2Source(path: path, options: options, system: system)
        case .image(let path, let options): return ImageSource(path: path, options: options)
        case .directory(let path, let options): return DirectorySource(path: path, options: options)
        case .video(let path, let options): return VideoFileSource(path: path, options: options)
        case .synthetic(let options): return SyntheticSource(options: options)
        }
    }
}
