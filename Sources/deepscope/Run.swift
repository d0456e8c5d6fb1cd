import ArgumentParser
import CAllocationCounter
import Capture
import Daemon
import Engine
import Foundation
import Interface
import ModelIO
import Recording
import Support
import Visualization

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Shows what the network sees, live: camera → network → window (or headless).",
        discussion: """
            SPEC is one of v4l2:/dev/video0[?width=640&height=480&fps=30], image:PATH, dir:PATH, \
            video:PATH or synthetic; each takes the options width, height, fps and mirror. Without \
            --source the first camera is used, or the synthetic demo scene when there is none. \
            The window shows the input, every channel of a layer, the selected unit, its projection \
            onto the image and the top classes; H lists the keys. With a window, S switches to the \
            synthetic demo scene and back. SIGINT or SIGTERM stops cleanly; on exit the frames \
            captured, inferred and dropped and the per-stage timings are printed (and with a window \
            the frames presented, the capture-to-present latency and allocations per frame).
            """)

    @Option(name: .long, help: ArgumentHelp("The frame source.", valueName: "spec"))
    var source: String?

    @OptionGroup var model: ModelOptions

    @Option(name: .long, help: "The layer to show first (an ONNX node output name; `inspect` lists them).")
    var layer: String?

    @Option(name: .long, help: ArgumentHelp("Record the window to an MP4 file (H.264); R in the window starts and stops recordings too.", valueName: "file"))
    var record: String?

    @Option(name: .long, help: "Stop after N inferred frames.")
    var frames: Int?

    @Flag(name: .long, help: "Run without a window (as a daemon under systemd).")
    var headless = false

    @Option(name: .long, help: ArgumentHelp("A configuration file (not read yet).", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("The window's size in points, WxH.", valueName: "WxH"))
    var size: String = "1280x800"

    @Option(name: .long, help: "The unit (channel) selected first.")
    var unit: Int?

    @Option(name: .long, help: "Projection mode to start with: deconv, guided, gradient or off (default: guided, or deconv on networks with max pooling).")
    var mode: String?

    @Option(name: .long, help: ArgumentHelp("Where the K key saves snapshots of the window.", valueName: "dir"))
    var snapshotDir: String = "."

    func run() throws {
        if let frames, frames < 1 { throw UserError("--frames must be at least 1, got \(frames).") }
        var spec: SourceSpec?
        if let source {
            do { spec = try SourceSpec.parse(source) } catch { throw UserError(error.description) }
        }
        if let config {
            guard FileManager.default.isReadableFile(atPath: config) else {
                throw UserError("The configuration file \(config) does not exist or cannot be read.")
            }
            note("Configuration files are not read yet; \(config) is ignored.")
        }
        let (width, height) = try Render.parseSize(size)
        let startMode = try mode.map(Render.parseMode)   // nil: the network's default
        if let unit, unit < 0 { throw UserError("--unit must be 0 or more, got \(unit).") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: snapshotDir, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw UserError("--snapshot-dir \(snapshotDir) is not a folder.")
        }
        StopSignals.install()
        if let record {
            if headless { throw UserError("--record records the window; it cannot be used with --headless.") }
            // Checked before anything starts: a path that cannot be written is bad input.
            do throws(RecordingError) { try VideoRecorder.checkDestination(record) } catch { throw UserError(error.description) }
        }

        // The window first: without a display there is no point loading anything.
        var window: SDLWindow?
        if !headless {
            do throws(WindowError) { window = try SDLWindow(title: "DeepScope", width: width, height: height) } catch {
                throw UserError(error.description, status: 1)
            }
        }

        let (frameSource, alternates, isCamera) = try openSources(spec, live: window != nil)
        let closeAll = { frameSource.close(); for a in alternates { a.close() } }
        let loaded: Model, network: Network
        do { (loaded, network) = try model.load() } catch { closeAll(); throw error }
        if let layer, network.graph.value(named: layer) == nil {
            closeAll()
            throw UserError("The model \(loaded.url.path) has no layer named '\(layer)'; `deepscope inspect` lists them.")
        }

        var stage: VisualStage?
        var controller: Controller?
        if window != nil {
            let spec = loaded.preprocessing
            guard spec.mean.count == 3, spec.std.count == 3 else {
                closeAll()
                throw UserError("The model \(loaded.url.path) needs three means and deviations for an RGB image.")
            }
            let builder = SnapshotBuilder(network: network, labels: loaded.labels,
                                          encoding: InputEncoding(mean: spec.mean, std: spec.std, pixelRange: spec.pixelRange,
                                                                  bgr: spec.channelOrder.uppercased() == "BGR"))
            var view = ViewSettings()
            view.layer = builder.defaultLayer
            if let layer, let value = network.graph.value(named: layer), let i = builder.layers.firstIndex(of: value) {
                view.layer = i
            } else if let layer {
                closeAll()
                throw UserError("Layer '\(layer)' is not the output of a node; `deepscope inspect` lists the layers.")
            }
            view.mode = startMode ?? builder.defaultMode
            if let unit {
                let channels = builder.layerShapes[view.layer].channels
                guard unit < channels else {
                    closeAll()
                    throw UserError("--unit \(unit) is out of range: layer \(builder.layerNames[view.layer]) has \(channels) units (0…\(channels - 1)).")
                }
                view.unit = unit
            }
            let c = Controller(layers: builder.layerShapes, layerNames: builder.layerNames, view: view,
                               feedCount: 1 + alternates.count, mirror: isCamera)
            controller = c
            stage = VisualStage(builder: builder, requests: RequestChannel(c.request))
            // DEEPSCOPE_PROJECTION=every-frame: a fresh projection for every frame, even when behind.
            if ProcessInfo.processInfo.environment["DEEPSCOPE_PROJECTION"] == "every-frame" { stage?.adaptiveProjection = false }
        }

        let pipeline: Pipeline
        do throws(PipelineError) {
            pipeline = try Pipeline(source: frameSource, alternates: alternates, network: network,
                                    preprocessing: loaded.preprocessing, options: PipelineOptions(frameLimit: frames),
                                    visual: stage, onEvent: { note($0.logLine) })
        } catch {
            closeAll()
            throw UserError(error.description)
        }
        note("Running \(loaded.url.lastPathComponent) on \(frameSource.name) (\(frameSource.detail)); " +
             (window == nil ? "Ctrl-C stops." : "H shows the keys, Q quits."))
        pipeline.start()

        var liveReport: LiveReport?
        if let window, let controller {
            let fonts: Fonts
            do { fonts = try FontLoader.standard(scale: window.pixelScale) } catch {
                pipeline.stop()
                throw UserError(String(describing: error), status: 1)
            }
            let composer = Composer(fonts: fonts, width: window.pixelWidth, height: window.pixelHeight, scale: window.pixelScale)
            let counting = ds_allocation_counter_active() == 1
            var counter: (@Sendable () -> UInt64)?
            var threadCounter: (@Sendable () -> UInt64)?
            if counting {
                counter = { ds_allocation_counter_read() }
                threadCounter = { ds_allocation_counter_thread() }
            }
            let logLine: @Sendable (String) -> Void = { note($0) }
            var liveOptions = LiveOptions(snapshotDirectory: snapshotDir, log: logLine, allocationCount: counter, threadAllocationCount: threadCounter)
            liveOptions.logLayout = ProcessInfo.processInfo.environment["DEEPSCOPE_LOG_LAYOUT"] == "1"
            liveOptions.recordPath = record.map { ($0 as NSString).isAbsolutePath ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 }
            let app = LiveApp(pipeline: pipeline, window: window, composer: composer, controller: controller, options: liveOptions)
            if counting { ds_allocation_counter_start() }
            liveReport = app.run()
            _ = ds_allocation_counter_stop()
            if record != nil, let failure = app.recordingError {
                pipeline.stop()
                throw UserError(failure.description, status: failure.isBadInput ? 2 : 1)
            }
        } else {
            let interactive = isatty(2) != 0
            var nextStatus = MonotonicClock.now() + 2 * Nanoseconds.second
            while !StopSignals.requested && !pipeline.isFinished {
                _ = pipeline.waitUntilFinished(timeout: 100 * Nanoseconds.millisecond)
                if interactive && MonotonicClock.now() >= nextStatus {
                    nextStatus += 2 * Nanoseconds.second
                    note(status(pipeline, model: loaded))
                }
            }
        }
        pipeline.stop()
        if let signal = StopSignals.lastSignalName { note("Stopped by \(signal).") }

        let report = pipeline.report()
        for line in report.lines { print(line) }
        if let liveReport { for line in liveReport.lines { print(line) } }
        if let last = pipeline.latestClassification {
            print("top-1       \(last.index) \(loaded.label(last.index)) (\(String(format: "%.1f", Double(last.probability) * 100))%) on frame \(last.frameNumber)")
        }
    }

    /// The source asked for (or the first camera, or the synthetic scene), opened, and with a
    /// window the synthetic demo scene as a second source to switch to.
    private func openSources(_ spec: SourceSpec?, live: Bool) throws -> (any FrameSource, [any FrameSource], Bool) {
        let main = try openSource(spec)
        let isCamera = main is V4L2Source
        var alternates: [any FrameSource] = []
        if live && !(main is SyntheticSource) {
            let demo = SyntheticSource(options: SourceOptions(width: 640, height: 480))
            if (try? demo.open()) != nil { alternates.append(demo) }
        }
        return (main, alternates, isCamera)
    }

    /// The source asked for, or the first camera, or the synthetic scene — opened.
    private func openSource(_ spec: SourceSpec?) throws -> any FrameSource {
        let system = CameraSystem.current
        if let spec {
            let source = SourceFactory.make(spec, system: system)
            do { try source.open() } catch {
                throw UserError(error.description, status: error.isBadInput ? 2 : 1)
            }
            return source
        }
        if let camera = CameraProbe.firstCamera(system: system) {
            let source = V4L2Source(path: camera, system: system)
            do {
                try source.open()
                return source
            } catch {
                note("\(error.description.dropLast()); running on the synthetic demo scene instead.")
            }
        } else {
            note("No camera found (no /dev/video* device); running on the synthetic demo scene.")
        }
        let demo = SyntheticSource()
        try? demo.open()
        return demo
    }

    private func status(_ pipeline: Pipeline, model: Model) -> String {
        let r = pipeline.report()
        var text = String(format: "%6.1f s  captured %d, inferred %d", r.elapsedSeconds, r.captured, r.inferred)
        if case .noSignal = r.state { text += "  NO SIGNAL" }
        if let c = pipeline.latestClassification {
            text += String(format: "  top-1 %@ (%.0f%%)", model.label(c.index), Double(c.probability) * 100)
        }
        return text
    }
}

/// One line on stderr.
func note(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
