import ArgumentParser
import Capture
import Daemon
import Engine
import Foundation
import ModelIO

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Runs the live pipeline: a capture thread feeds the network on an inference thread.",
        discussion: """
            SPEC is one of v4l2:/dev/video0[?width=640&height=480&fps=30], image:PATH, dir:PATH, \
            video:PATH or synthetic; each takes the options width, height, fps and mirror. Without \
            --source the first camera is used, or the synthetic demo scene when there is none. \
            SIGINT or SIGTERM stops cleanly; on exit the frames captured, inferred and dropped and \
            the per-stage timings are printed.
            """)

    @Option(name: .long, help: ArgumentHelp("The frame source.", valueName: "spec"))
    var source: String?

    @OptionGroup var model: ModelOptions

    @Option(name: .long, help: "The layer to show (checked against the model; shown by the window).")
    var layer: String?

    @Option(name: .long, help: ArgumentHelp("Record the view to an MP4 file (not available yet).", valueName: "file"))
    var record: String?

    @Option(name: .long, help: "Stop after N inferred frames.")
    var frames: Int?

    @Flag(name: .long, help: "Run without a window.")
    var headless = false

    @Option(name: .long, help: ArgumentHelp("A configuration file (not read yet).", valueName: "file"))
    var config: String?

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
        StopSignals.install()
        if !headless { note("The window is not available yet; running headless.") }
        if let record { note("Recording is not available yet; \(record) will not be written.") }

        let frameSource = try openSource(spec)
        let (loaded, network) = try model.load()
        if let layer, network.graph.value(named: layer) == nil {
            throw UserError("The model \(loaded.url.path) has no layer named '\(layer)'; `deepscope inspect` lists them.")
        }
        let pipeline: Pipeline
        do {
            pipeline = try Pipeline(source: frameSource, network: network, preprocessing: loaded.preprocessing,
                                    options: PipelineOptions(frameLimit: frames),
                                    onEvent: { note($0.logLine) })
        } catch {
            frameSource.close()
            throw UserError(error.description)
        }
        note("Running \(loaded.url.lastPathComponent) on \(frameSource.name) (\(frameSource.detail)); Ctrl-C stops.")
        pipeline.start()

        let interactive = isatty(2) != 0
        var nextStatus = MonotonicClock.now() + 2 * Nanoseconds.second
        while !StopSignals.requested && !pipeline.isFinished {
            _ = pipeline.waitUntilFinished(timeout: 100 * Nanoseconds.millisecond)
            if interactive && MonotonicClock.now() >= nextStatus {
                nextStatus += 2 * Nanoseconds.second
                note(status(pipeline, model: loaded))
            }
        }
        pipeline.stop()
        if let signal = StopSignals.lastSignalName { note("Stopped by \(signal).") }

        let report = pipeline.report()
        for line in report.lines { print(line) }
        if let last = pipeline.latestClassification {
            print("top-1       \(last.index) \(loaded.label(last.index)) (\(String(format: "%.1f", Double(last.probability) * 100))%) on frame \(last.frameNumber)")
        }
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
