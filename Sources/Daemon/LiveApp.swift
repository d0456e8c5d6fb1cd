// The UI thread: SDL events → Controller → requests to the inference thread; new snapshots →
// Composer → window. It sleeps in SDL_WaitEventTimeout and is woken by a user event that the
// inference thread posts after each snapshot.

import Capture
import Foundation
import Interface
import Recording
import Support
import Visualization

/// What the window loop needs beyond the pipeline.
public struct LiveOptions: Sendable {
    /// Where K saves snapshots of the window.
    public var snapshotDirectory: String
    /// One line for the log (stderr, the journal under systemd): selections, snapshots, the first
    /// frame. Called on the UI thread.
    public var log: @Sendable (String) -> Void
    /// Heap allocations counted so far in the whole process (nil: not counted).
    public var allocationCount: (@Sendable () -> UInt64)?
    /// Heap allocations the calling thread made so far (nil: not counted).
    public var threadAllocationCount: (@Sendable () -> UInt64)?
    /// Presented frames to skip before counting allocations and latency (warm-up).
    public var warmupFrames: Int
    /// Log the panes' rectangles whenever the layout changes (for scripts driving the window).
    public var logLayout = false
    /// Record the window from the start into this MP4 file (R starts and stops recordings too).
    public var recordPath: String?

    public init(snapshotDirectory: String = ".", log: @escaping @Sendable (String) -> Void = { _ in },
                allocationCount: (@Sendable () -> UInt64)? = nil, threadAllocationCount: (@Sendable () -> UInt64)? = nil,
                warmupFrames: Int = 30) {
        self.threadAllocationCount = threadAllocationCount
        self.snapshotDirectory = snapshotDirectory
        self.log = log
        self.allocationCount = allocationCount
        self.warmupFrames = warmupFrames
    }
}

/// What the window showed, for the summary printed on exit.
public struct LiveReport: Sendable {
    /// New snapshots presented, and over how many seconds (after the warm-up).
    public var displayed: Int
    public var displayedSeconds: Double
    /// Capture to present, per new snapshot (after the warm-up).
    public var latency: TimingSummary
    /// Composing the window into its canvas.
    public var compose: TimingSummary
    /// Handing the canvas to SDL and presenting it.
    public var present: TimingSummary
    /// CPU time the UI thread used per presented frame (events, compose, present, waiting).
    public var uiCPUPerFrameMs: Double
    /// Projection and snapshot filling on the inference thread.
    public var snapshot: TimingSummary
    /// Snapshots published, and how many got a freshly computed projection (the others reused
    /// the previous frame's, while inference was behind the source).
    public var snapshotsPublished: UInt64 = 0
    public var projectionsComputed: UInt64 = 0
    /// Heap allocations in the whole process per presented frame after the warm-up (nil: not counted).
    public var allocationsPerFrame: Double?
    /// Of those, the UI thread's (SDL, the X11 client library, the GL driver and the composer).
    public var uiAllocationsPerFrame: Double?
    /// Of those, the composer's.
    public var composeAllocationsPerFrame: Double?
    public var renderer: String

    public var displayedFPS: Double { displayedSeconds > 0 ? Double(displayed) / displayedSeconds : 0 }

    public var lines: [String] {
        let t = timingText
        var out = [
            "window      \(displayed) frames presented in \(fixed(displayedSeconds, 1)) s: \(fixed(displayedFPS, 1)) fps (\(renderer) renderer)",
            "snapshot    \(t(snapshot)) (projection + copy, inference thread); projection computed for \(projectionsComputed) of \(snapshotsPublished) snapshots",
            "compose     \(t(compose)) (UI thread)",
            "present     \(t(present)); UI thread CPU \(fixed(uiCPUPerFrameMs, 2)) ms per presented frame",
            "latency     \(t(latency)) (capture to present)",
        ]
        if let a = allocationsPerFrame {
            var line = "allocations \(fixed(a, 2)) per presented frame (whole process)"
            if let u = uiAllocationsPerFrame { line += "; UI thread \(fixed(u, 2))" }
            if let c = composeAllocationsPerFrame { line += ", of which the composer \(fixed(c, 2)) (the rest: SDL, Xlib, GL driver)" }
            out.append(line)
        }
        return out
    }
}

/// The window: a frame sink that runs the main thread's loop until the user quits, a stop signal
/// arrives or the pipeline's frame limit is reached. Each composed frame goes on to the session's
/// other sinks (recorder, snapshots); K and R reach the snapshot and recorder sinks.
public final class LiveApp: MainLoopSink {
    public let pipeline: Pipeline
    public let window: SDLWindow
    public let composer: Composer
    public private(set) var controller: Controller
    public let options: LiveOptions
    private let visual: VisualStage
    private let latencies = TimingRecorder()
    private let composeTimes = TimingRecorder()
    private let presentTimes = TimingRecorder()
    private var message = ""
    private var messageUntil: UInt64 = 0
    private var quit = false
    /// The session's sinks that take composed frames (the recorder and snapshots among them).
    private let sinks: SinkHub
    private let recorder: RecorderSink
    private let snapshots: SnapshotSink
    /// Why recording failed, for the caller (a --record path that could not be written).
    public var recordingError: RecordingError? { recorder.failure }
    /// What the window showed, once `runMainLoop` has returned.
    public private(set) var report: LiveReport?

    /// - Parameters:
    ///   - sinks: where composed frames go; `recorder` and `snapshots` must be attached to it.
    public init(pipeline: Pipeline, window: SDLWindow, composer: Composer, controller: Controller, options: LiveOptions,
                sinks: SinkHub, recorder: RecorderSink, snapshots: SnapshotSink) {
        precondition(pipeline.visual != nil, "the pipeline has no visual stage")
        self.pipeline = pipeline
        self.window = window
        self.composer = composer
        self.controller = controller
        self.options = options
        visual = pipeline.visual!
        self.sinks = sinks
        self.recorder = recorder
        self.snapshots = snapshots
        visual.exchange.onPublish = { SDLWindow.wake() }
    }

    public func runMainLoop() { report = run() }

    public func run() -> LiveReport {
        let exchange = visual.exchange
        let requests = visual.requests
        requests.send(controller.request)
        var needsDraw = true
        var presented = 0
        var firstShown = false
        var warmCPU: UInt64 = 0
        var warmUIAllocations: UInt64 = 0
        var composeAllocationTotal: UInt64 = 0
        var warmStart: UInt64 = 0, warmAllocations: UInt64 = 0, lastPresent: UInt64 = 0
        var fpsMark: UInt64 = 0, fpsFrames = 0
        var displayFPS: Float = 0
        var shownProjection = (layer: -1, channel: -1, mode: "")
        var layoutLogged = false
        options.log("Window open: \(window.pixelWidth)×\(window.pixelHeight) pixels, \(window.rendererName) renderer, id \(window.systemWindowID).")
        if let path = options.recordPath {
            startRecording(path)
            if !recorder.isRecording { return emptyReport() }
        }
        defer { stopRecording() }

        while !quit && !StopSignals.requested && !pipeline.isFinished {
            for event in window.events(timeout: 50) {
                switch event {
                case .quit: quit = true
                case .wake: break
                case .exposed: needsDraw = true
                case .resized(let w, let h):
                    if let r = recorder.size, r.width != w || r.height != h {
                        stopRecording()
                        say("recording stopped: the window changed size")
                    }
                    composer.resize(width: w, height: h)
                    needsDraw = true
                    layoutLogged = false
                case .input(let input):
                    let before = controller
                    if let effect = controller.handle(input, geometry: composer.geometry) {
                        perform(effect)
                        needsDraw = true   // its message, and a recording's first frame
                    }
                    if controller.view != before.view || controller.request != before.request { needsDraw = true }
                    if controller.request != before.request { requests.send(controller.request) }
                    logChanges(from: before)
                }
            }
            for text in snapshots.takeMessages() + recorder.takeMessages() {   // a snapshot written meanwhile: say so at once
                say(text)
                needsDraw = true
            }
            var fresh = false
            if exchange.take() != nil {
                fresh = true
                needsDraw = true
            }
            guard needsDraw else { continue }
            let front = exchange.front
            guard front.inputWidth > 0 else { continue }   // nothing to show before the first snapshot
            let a0 = options.threadAllocationCount?() ?? 0
            let t0 = MonotonicClock.now()
            if t0 < messageUntil { front.message = message }
            front.stats.displayFPS = displayFPS
            composer.compose(front, view: controller.view)
            let t1 = MonotonicClock.now()
            let composeAllocations = (options.threadAllocationCount?() ?? 0) &- a0
            window.present(composer.canvas)
            let t2 = MonotonicClock.now()
            needsDraw = false
            sinks.receive(frame: ComposedFrame(canvas: composer.canvas, time: t2))
            if options.logLayout && !layoutLogged {
                layoutLogged = true
                logLayout()
            }
            guard fresh else { continue }

            presented += 1
            fpsFrames += 1
            if fpsMark == 0 { fpsMark = t2 }
            if t2 - fpsMark >= Nanoseconds.second / 2 {
                displayFPS = Float(Double(fpsFrames) / (Double(t2 - fpsMark) / 1e9))
                fpsMark = t2; fpsFrames = 0
            }
            if !firstShown {
                firstShown = true
                options.log("First frame presented: \(front.source).")
            }
            if front.hasProjection {
                let name = front.layerNames.indices.contains(front.projectionLayer) ? front.layerNames[front.projectionLayer] : "?"
                let mode = front.projectionMode?.rawValue ?? ""
                if shownProjection.layer != front.projectionLayer || shownProjection.channel != front.projectionChannel || shownProjection.mode != mode {
                    shownProjection = (front.projectionLayer, front.projectionChannel, mode)
                    options.log(Controller.projectionShownLine(layer: name, channel: front.projectionChannel, mode: mode))
                }
            }
            if presented == options.warmupFrames {
                warmStart = t2
                warmCPU = MonotonicClock.threadCPUTime()
                warmAllocations = options.allocationCount?() ?? 0
                warmUIAllocations = options.threadAllocationCount?() ?? 0
            } else if presented > options.warmupFrames {
                composeTimes.record(t1 - t0)
                composeAllocationTotal &+= composeAllocations
                presentTimes.record(t2 - t1)
                if front.stats.captureTime > 0 { latencies.record(t2 &- front.stats.captureTime) }
                lastPresent = t2
            }
        }
        let counted = max(0, presented - options.warmupFrames)
        let allocations: Double? = options.allocationCount.flatMap { count in
            counted > 0 ? Double(count() &- warmAllocations) / Double(counted) : nil
        }
        let (published, projected) = visual.projectionCounts
        var report = LiveReport(displayed: counted, displayedSeconds: lastPresent > warmStart ? Double(lastPresent - warmStart) / 1e9 : 0,
                          latency: latencies.summary(), compose: composeTimes.summary(), present: presentTimes.summary(),
                          uiCPUPerFrameMs: counted > 0 ? Double(MonotonicClock.threadCPUTime() &- warmCPU) / 1e6 / Double(counted) : 0,
                          snapshot: visual.fillTimes.summary(),
                          allocationsPerFrame: counted > 0 ? allocations : nil,
                          uiAllocationsPerFrame: options.threadAllocationCount.flatMap { count in
                              counted > 0 ? Double(count() &- warmUIAllocations) / Double(counted) : nil
                          },
                          composeAllocationsPerFrame: options.threadAllocationCount != nil && counted > 0
                              ? Double(composeAllocationTotal) / Double(counted) : nil,
                          renderer: window.rendererName)
        report.snapshotsPublished = published
        report.projectionsComputed = projected
        return report
    }

    private func perform(_ effect: Effect) {
        switch effect {
        case .quit:
            quit = true
        case .toggleFullscreen:
            window.toggleFullscreen()
        case .message(let text):
            say(text)
        case .snapshot:
            let stamp = Self.timestamp()
            snapshots.request(path: (options.snapshotDirectory as NSString).appendingPathComponent("deepscope-\(stamp).png"))
        case .toggleRecording:
            if recorder.isRecording {
                stopRecording()
            } else {
                let path = (options.snapshotDirectory as NSString).appendingPathComponent("deepscope-\(Self.timestamp()).mp4")
                startRecording(path)
            }
        }
    }

    private func startRecording(_ path: String) {
        say(recorder.start(path: path, width: composer.canvas.width, height: composer.canvas.height))
    }

    private func stopRecording() {
        if let message = recorder.stop() { say(message) }
    }

    private func emptyReport() -> LiveReport {
        LiveReport(displayed: 0, displayedSeconds: 0, latency: .empty, compose: .empty, present: .empty, uiCPUPerFrameMs: 0,
                   snapshot: .empty, allocationsPerFrame: nil, uiAllocationsPerFrame: nil, composeAllocationsPerFrame: nil,
                   renderer: window.rendererName)
    }

    /// "Layout 1280×800: input=x,y,w,h grid=… " in window pixels, with the grid's tile geometry.
    private func logLayout() {
        let g = composer.geometry
        func r(_ rect: Rect) -> String { "\(rect.x),\(rect.y),\(rect.width),\(rect.height)" }
        var line = "Layout \(g.layout.width)×\(g.layout.height):"
        for (pane, rect) in g.layout.panes { line += " \(pane.rawValue)=\(r(rect))" }
        if g.grid.count > 0 && g.grid.columns > 0 {
            line += " tiles=\(g.grid.count) columns=\(g.grid.columns) first-tile=\(r(g.grid.rect(of: g.grid.range(page: g.page).lowerBound, page: g.page)))"
        }
        options.log(line)
    }

    private func say(_ text: String) {
        message = text
        messageUntil = MonotonicClock.now() + 4 * Nanoseconds.second
    }

    /// One log line per change of the selection, so that scripts and tests can follow the window.
    private func logChanges(from before: Controller) {
        for line in controller.changeLines(since: before) { options.log(line) }
    }

    private static func timestamp() -> String {
        var t = time(nil)
        var tmValue = tm()
        localtime_r(&t, &tmValue)
        var buffer = [CChar](repeating: 0, count: 32)
        strftime(&buffer, buffer.count, "%Y%m%d-%H%M%S", &tmValue)
        return String(cString: buffer)
    }
}
