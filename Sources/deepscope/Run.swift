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
            --source the first camera is used, or when there is none the demo: the photos of \
            Assets/demo as a slideshow (the synthetic scene where setup has not put them there). \
            Without a display it says so and runs headless, printing the top classes once a second. \
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

    @Option(name: .long, help: ArgumentHelp("Record the window (headless: the same view, composed off-screen) to an MP4 file (H.264, fragmented: it plays whenever the recording stops); R in the window starts and stops recordings too.", valueName: "file"))
    var record: String?

    @Option(name: .long, help: ArgumentHelp("Record the session into a new folder: every input frame the network reads (input.mkv, FFV1, lossless), frames.jsonl (capture times, sequence numbers) and actions.jsonl (every selection, mode, freeze, mirror or source change and the frame it applies from).", valueName: "dir"))
    var session: String?

    @Option(name: .long, help: "Stop after N inferred frames.")
    var frames: Int?

    @Flag(name: .long, help: "Run without a window (as a daemon under systemd).")
    var headless = false

    @Option(name: .long, help: ArgumentHelp("A TOML configuration file (source, model, layer, unit, mode, recordings, socket, metrics); options given here override it, SIGHUP re-reads it.", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("The window's size in points, WxH.", valueName: "WxH"))
    var size: String = "1280x800"

    @Option(name: .long, help: "The unit (channel) selected first.")
    var unit: Int?

    @Option(name: .long, help: "Projection mode to start with: deconv, guided, gradient or off (default: guided, or deconv on networks with max pooling).")
    var mode: String?

    @Option(name: .long, help: ArgumentHelp("Where the K key saves snapshots of the window (default: the configuration's recordings folder, else .).", valueName: "dir"))
    var snapshotDir: String?

    func run() throws {
        if let frames, frames < 1 { throw UserError("--frames must be at least 1, got \(frames).") }
        // The configuration file first; the options given here override it.
        let file = try config.map { path throws(ConfigurationError) in try DaemonConfiguration.load(path: path) } ?? DaemonConfiguration()
        var spec: SourceSpec? = file.source
        if let source {
            do { spec = try SourceSpec.parse(source) } catch { throw UserError(error.description) }
        }
        let (width, height) = try Render.parseSize(size)
        var startMode: ProjectionMode?? = file.mode   // nil: the network's default; .some(nil): off
        if let mode { startMode = .some(try Render.parseMode(mode)) }
        let layer = self.layer ?? file.layer, unit = self.unit ?? file.unit
        let snapshotDir = self.snapshotDir ?? file.recordings ?? "."
        if let unit, unit < 0 { throw UserError("--unit must be 0 or more, got \(unit).") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: snapshotDir, isDirectory: &isDirectory), isDirectory.boolValue else {
            if self.snapshotDir == nil, let config {
                throw UserError("The configuration file \(config) has a bad value for 'recordings': \(snapshotDir) is not a folder.")
            }
            throw UserError("--snapshot-dir \(snapshotDir) is not a folder.")
        }
        StopSignals.install()
        if config != nil { ReloadSignal.install() }   // before anything slow: a SIGHUP must never end the daemon
        let logger = Run.bootstrapLogging()
        if let record {
            // Checked before anything starts: a path that cannot be written is bad input.
            do throws(RecordingError) { try VideoRecorder.checkDestination(record) } catch { throw UserError(error.description) }
        }

        let environment = ProcessInfo.processInfo.environment
        var c = SessionConfiguration(modelPath: try model.model == nil ? file.model ?? model.checkedModelPath() : model.checkedModelPath(),
                                     threads: try model.threadCount(),
                                     output: headless ? .headless : .window(width: width, height: height),
                                     cameras: CameraSystem.current, log: { logger.info("\($0)") })
        c.source = spec
        c.layer = layer
        c.unit = unit
        c.mode = startMode
        c.frameLimit = frames
        c.recordPath = record.map { ($0 as NSString).isAbsolutePath ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 }
        c.snapshotDirectory = snapshotDir
        c.sessionDirectory = session.map { ($0 as NSString).isAbsolutePath ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 }
        c.offscreenSize = (width, height)   // --record without a window: the same view, off-screen
        c.demoFolder = ModelOptions.assetPath("demo")
        c.headlessStatus = isatty(2) != 0
        // DEEPSCOPE_PROJECTION=every-frame: a fresh projection for every frame, even when behind.
        c.adaptiveProjection = environment["DEEPSCOPE_PROJECTION"] != "every-frame"
        c.logLayout = environment["DEEPSCOPE_LOG_LAYOUT"] == "1"
        if ds_allocation_counter_active() == 1 {
            c.allocations = AllocationCounting(total: { ds_allocation_counter_read() }, thread: { ds_allocation_counter_thread() },
                                               start: { ds_allocation_counter_start() }, stop: { _ = ds_allocation_counter_stop() })
        }

        c.controllable = true
        // A SessionError is a DeepScopeError: main reports its sentence and exit status.
        let session: Session
        do { session = try Session(c) } catch {
            // A layer or unit the model does not have, taken from the configuration file: name the file and the key.
            if let config, error.isBadInput {
                let text = error.description
                var key: String?
                if text.contains("--unit") { key = self.unit == nil && file.unit != nil ? "unit" : nil }
                else if text.contains("layer") { key = self.layer == nil && file.layer != nil ? "layer" : nil }
                else if let path = file.model, model.model == nil, text.contains(path) { key = "model" }
                if let key { throw UserError("The configuration file \(config) has a bad value for '\(key)': \(text)") }
            }
            throw error
        }
        session.control = try makeControl(file: file, recordings: snapshotDir, logger: logger)
        let result = try session.run()
        for line in result.pipeline.lines { print(line) }
        if let window = result.window { for line in window.lines { print(line) } }
        if let last = result.latest {
            print("top-1       \(last.index) \(result.model.label(last.index)) (\(String(format: "%.1f", Double(last.probability) * 100))%) on frame \(last.frameNumber)")
        }
    }
}

/// One line on stderr.
func note(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
