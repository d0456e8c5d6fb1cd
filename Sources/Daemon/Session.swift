// The composition root of a run: sources, model, pipeline, frame sinks, and their lifetimes.

import Capture
import Engine
import Foundation
import Interface
import ModelIO
import Recording
import Support
import Visualization

/// A problem that stops a session from starting or finishing; `description` is one sentence.
public struct SessionError: Error, Sendable, CustomStringConvertible {
    public var description: String
    /// Bad input (exit status 2) rather than a failure of the machine or a device (1).
    public var isBadInput: Bool

    public init(_ description: String, badInput: Bool = true) {
        self.description = description
        isBadInput = badInput
    }
}

/// Everything a session is asked to do: `deepscope run` turns its options into one of these.
public struct SessionConfiguration: @unchecked Sendable {
    /// Where the frames go.
    public enum Output: Sendable, Equatable {
        /// The live window, `width`×`height` points; with no display the session says so in one
        /// line and runs headless with status lines instead.
        case window(width: Int, height: Int)
        /// No window (asked for on purpose, as under systemd).
        case headless
        /// One frame composed off-screen into a PNG (`deepscope render`; see `StillView`).
        case still(StillView)
    }

    /// The source asked for; nil: the first camera, or the demo where there is none.
    public var source: SourceSpec?
    /// The ONNX model file and the inference threads.
    public var modelPath: String
    public var threads: Int
    /// The layer and unit to show first (nil: the network's defaults).
    public var layer: String?
    public var unit: Int?
    /// The projection mode to start with: nil takes the network's default, `.some(nil)` is off.
    public var mode: ProjectionMode??
    /// Stop after this many inferred frames.
    public var frameLimit: Int?
    public var output: Output
    /// Record the window from the start into this MP4 file (headless: the same view, off-screen).
    public var recordPath: String?
    /// The size, in pixels, of the view composed off-screen when recording headless.
    public var offscreenSize = (width: 1280, height: 800)
    /// Record the session (the network's input frames and every request) into this folder.
    public var sessionDirectory: String?
    /// Play this recorded session back instead of opening a source (`deepscope replay`).
    public var replay: SessionReplay?
    /// Where K and R save snapshots and recordings.
    public var snapshotDirectory: String = "."
    /// The folder of demo photos shown when there is no camera (nil or missing: the synthetic scene).
    public var demoFolder: String?
    /// Print status lines about once a second also when headless was asked for on purpose.
    public var headlessStatus = false
    /// Reuse the previous projection while inference is behind the source (see `VisualStage`).
    public var adaptiveProjection = true
    /// Log the panes' rectangles whenever the layout changes.
    public var logLayout = false
    /// Keep a selection (layer, unit, mode, freeze) also without a window, for the control socket.
    public var controllable = false
    /// Where V4L2 calls go (the emulated cameras in tests).
    public var cameras: any VideoDeviceSystem
    /// Capture stall timeout and reconnect backoff.
    public var capture = CapturePolicy()
    /// Heap allocation counting for the window's report (the executable links the counter).
    public var allocations: AllocationCounting?
    /// One line for the log (stderr): what runs, fallbacks, capture events, the window's selections.
    public var log: @Sendable (String) -> Void

    public init(modelPath: String, threads: Int, output: Output, cameras: any VideoDeviceSystem,
                log: @escaping @Sendable (String) -> Void) {
        self.modelPath = modelPath
        self.threads = threads
        self.output = output
        self.cameras = cameras
        self.log = log
    }
}

/// The process's heap allocation counter, as the executable provides it.
public struct AllocationCounting: Sendable {
    /// Allocations in the whole process, and on the calling thread, so far.
    public var total: @Sendable () -> UInt64
    public var thread: @Sendable () -> UInt64
    /// Starts and stops counting.
    public var start: @Sendable () -> Void
    public var stop: @Sendable () -> Void

    public init(total: @escaping @Sendable () -> UInt64, thread: @escaping @Sendable () -> UInt64,
                start: @escaping @Sendable () -> Void, stop: @escaping @Sendable () -> Void) {
        self.total = total
        self.thread = thread
        self.start = start
        self.stop = stop
    }
}

/// What a finished session reports.
public struct SessionResult {
    public var model: Model
    public var pipeline: PipelineReport
    public var window: LiveReport?
    public var latest: Classification?
}

/// The one place that opens the sources, loads the model, builds the pipeline, attaches the frame
/// sinks and owns their lifetimes. `run` starts everything, hands the main thread to the window
/// (or waits headless), and `stop` releases everything once, in order: the sinks, the pipeline's
/// threads, the sources (a camera streamed off, its buffers unmapped, its descriptor closed), the
/// window; the model's arena goes with the session.
public final class Session {
    public let configuration: SessionConfiguration
    public let model: Model
    public let network: Network
    public let pipeline: Pipeline
    /// The sources, the first active at start (with a window: the demo scenes to switch to follow).
    public let sources: [any FrameSource]
    /// True when the main source is a camera (the window mirrors it).
    public let isCamera: Bool
    /// The window, when there is one (released by `stop`).
    public private(set) var window: SDLWindow?
    public let controller: Controller?
    /// Every output, closed first by `stop`.
    public let sinks = SinkHub()
    /// The window's recorder and snapshot sinks (attached with the window).
    public let recorder: RecorderSink?
    public let snapshots: SnapshotSink?
    /// The session recorder (`sessionDirectory`).
    public let sessionRecorder: SessionRecorder?
    private var app: LiveApp?
    /// The control socket, sd_notify and reloads (`DaemonControl`); set before `run`.
    public var control: DaemonControl?
    private var stopped = false
    private var started = false

    /// Opens what the configuration asks for; nothing runs until `run` (or `start`).
    /// - Throws: `SessionError` naming the file, layer or device at fault; whatever was opened is
    ///   closed again.
    public init(_ configuration: SessionConfiguration) throws(SessionError) {
        self.configuration = configuration
        let c = configuration
        let log = c.log
        // The window first: without a display there is no point opening a camera for it.
        var window: SDLWindow?
        if case .window(let width, let height) = c.output {
            do throws(WindowError) { window = try SDLWindow(title: "DeepScope", width: width, height: height) } catch {
                guard error.noDisplay else { throw SessionError(error.description, badInput: false) }
                log("No display to open a window on; running headless, " + (c.recordPath != nil ? "recording the view composed off-screen."
                    : "with what the network sees once a second (Ctrl-C stops; `deepscope render` draws the window into a PNG)."))
            }
        }
        self.window = window
        var opened: [any FrameSource] = []
        func closeAll() { for s in opened { s.close() } }
        do throws(SessionError) {
            let main = try Self.openMainSource(c)
            opened.append(main)
            isCamera = main is V4L2Source
            if window != nil && !(main is SyntheticSource) {
                let scene = SyntheticSource(options: SourceOptions(width: 640, height: 480))
                if (try? scene.open()) != nil { opened.append(scene) }
            }
            let (model, network) = try Self.loadModel(path: c.modelPath, threads: c.threads)
            self.model = model
            self.network = network
            var stage: VisualStage?
            var controller: Controller?
            if window != nil || c.recordPath != nil || c.controllable || c.replay != nil {   // the window's view, on screen or off
                let builder = Self.snapshotBuilder(model: model, network: network)
                var view = ViewSettings()
                view.layer = builder.defaultLayer
                if let name = c.layer {
                    view.layer = try Self.layerIndex(name, builder: builder, graph: network.graph, path: model.url.path)
                }
                // Headless with nobody looking (no window, recording or replay): no projection until
                // a client asks for one (`ctl mode`) or `--mode` / the configuration sets it, since it
                // costs a fifth to a third of the frame rate.
                let nobodyLooks = window == nil && c.recordPath == nil && c.replay == nil
                view.mode = c.mode ?? (nobodyLooks ? nil : builder.defaultMode)
                if let unit = c.unit {
                    let channels = builder.layerShapes[view.layer].channels
                    guard unit < channels else {
                        throw SessionError("--unit \(unit) is out of range: layer \(builder.layerNames[view.layer]) has \(channels) units (0…\(channels - 1)).")
                    }
                    view.unit = unit
                }
                let made = Controller(layers: builder.layerShapes, layerNames: builder.layerNames, view: view,
                                      feedCount: opened.count, mirror: isCamera)
                controller = made
                stage = VisualStage(builder: builder, requests: RequestChannel(made.request))
                stage?.adaptiveProjection = c.adaptiveProjection
            } else if let layer = c.layer, network.graph.value(named: layer) == nil {
                throw SessionError("The model \(model.url.path) has no layer named '\(layer)'; `deepscope inspect` lists them.")
            }
            self.controller = controller
            do throws(PipelineError) {
                pipeline = try Pipeline(source: opened[0], alternates: Array(opened.dropFirst()), network: network,
                                        preprocessing: model.preprocessing, options: PipelineOptions(capture: c.capture, frameLimit: c.frameLimit),
                                        visual: stage, onEvent: { log($0.logLine) })
            } catch {
                throw SessionError(error.description)
            }
        } catch {
            closeAll()
            throw error
        }
        sources = opened
        do throws(SessionError) {
            sessionRecorder = try Self.sessionRecorder(c, pipeline: pipeline, model: model)
        } catch {
            closeAll()
            throw error
        }
        c.replay?.attach(pipeline)
        if let sessionRecorder {
            pipeline.inputObserver = sessionRecorder
            sinks.attach(sessionRecorder)
        }
        if window != nil || c.recordPath != nil {
            recorder = RecorderSink(log: log)
            snapshots = SnapshotSink(log: log)
        } else {
            recorder = nil
            snapshots = nil
        }
        let hub = sinks
        pipeline.onResult = { hub.receive(result: $0) }
    }

    deinit { stop() }

    /// Adds an output; call before `run`.
    public func attach(_ sink: any FrameSink) { sinks.attach(sink) }

    /// Starts the threads and runs until the frame limit, a stop signal or (with a window) the
    /// user quits; then stops everything and reports.
    /// - Throws: `SessionError` when the window cannot draw (no fonts) or a `--record` file fails.
    public func run() throws(SessionError) -> SessionResult {
        let c = configuration
        if case .still(let still) = c.output { return try runStill(still) }
        var offscreen: OffscreenView?
        if let window, let controller, let recorder, let snapshots {
            let fonts: Fonts
            do { fonts = try FontLoader.standard(scale: window.pixelScale) } catch {
                stop()
                throw SessionError(String(describing: error), badInput: false)
            }
            let composer = Composer(fonts: fonts, width: window.pixelWidth, height: window.pixelHeight, scale: window.pixelScale)
            var options = LiveOptions(snapshotDirectory: c.snapshotDirectory, log: c.log,
                                      allocationCount: c.allocations?.total, threadAllocationCount: c.allocations?.thread)
            options.logLayout = c.logLayout
            options.recordPath = c.recordPath
            attach(recorder)
            attach(snapshots)
            let app = LiveApp(pipeline: pipeline, window: window, composer: composer, controller: controller,
                              options: options, sinks: sinks, recorder: recorder, snapshots: snapshots)
            self.app = app
            app.control = control
            app.session = self
            control?.queue.onPost = { SDLWindow.wake() }
            announce("H shows the keys, Q quits.")
            start()
            c.allocations?.start()
            app.runMainLoop()
            c.allocations?.stop()
        } else if let controller, let recorder, let path = c.recordPath {
            let view = try OffscreenView(session: self, controller: controller, recorder: recorder, path: path)
            offscreen = view
            if let control {
                let target = HeadlessTarget(controller: controller, visual: pipeline.visual!, log: c.log, offscreen: (view.composer, recorder))
                view.onIdle = { [unowned self] in control.poll(self, target: target) }
            }
            announce("recording the view off-screen; Ctrl-C stops.")
            start()
            view.runMainLoop()
        } else {
            if window == nil && (c.output != .headless || c.headlessStatus) {
                let model = self.model
                attach(StatusSink(sourceNames: pipeline.feeds.map(\.name), label: { model.label($0) }, write: c.log))
            }
            announce("Ctrl-C stops.")
            start()
            let target = control == nil ? nil : controller.map { HeadlessTarget(controller: $0, visual: pipeline.visual!, log: c.log) }
            while !StopSignals.requested && !pipeline.isFinished && !(target?.quit ?? false) {
                if let control, let target {
                    control.queue.wait(timeout: 50 * Nanoseconds.millisecond)
                    control.poll(self, target: target)
                } else {
                    _ = pipeline.waitUntilFinished(timeout: 100 * Nanoseconds.millisecond)
                }
            }
        }
        let failure = c.recordPath != nil ? app?.recordingError ?? offscreen?.recordingError : nil
        let report = app?.report
        stop()
        if let failure { throw SessionError(failure.description, badInput: failure.isBadInput) }
        if let signal = StopSignals.lastSignalName { c.log("Stopped by \(signal).") }
        return SessionResult(model: model, pipeline: pipeline.report(), window: report, latest: pipeline.latestClassification)
    }

    /// Starts the pipeline's threads (`run` calls it; tests may call it and drive the rest).
    public func start() {
        guard !started && !stopped else { return }
        started = true
        control?.attach(to: self)
        pipeline.start()
        control?.started(self)
    }

    /// Releases everything once, in order: sinks, the pipeline's threads, the sources, the window.
    /// Idempotent.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        control?.stop()
        sinks.closeAll()
        pipeline.stop()
        for s in sources { s.close() }
        app = nil
        window = nil
    }

    private func announce(_ keys: String) {
        let s = pipeline.source
        configuration.log("Running \(model.url.lastPathComponent) on \(s.name) (\(s.detail)); " + keys)
    }
}
