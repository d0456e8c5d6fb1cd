import ArgumentParser
import Capture
import Daemon
import Foundation
import Recording
import Support

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Plays a recorded session (run --session DIR) back through the same pipeline.",
        discussion: """
            Every recorded frame reaches the network in order, none dropped, with the recorded \
            selections, modes, mirror and stretch taken over before the frame they applied from \
            (a freeze is not replayed: no frame was recorded while frozen). --model and --layer \
            re-render the session with another model or layer; --export writes the composed view to \
            an MP4 file (off-screen with --headless or without a display). Prints the same report \
            as run.
            """)

    @Argument(help: ArgumentHelp("The session folder.", valueName: "dir"))
    var directory: String

    @OptionGroup var model: ModelOptions

    @Option(name: .long, help: "Show this layer instead of the recorded ones (an ONNX node output name).")
    var layer: String?

    @Option(name: .long, help: ArgumentHelp("Write the composed view to an MP4 file.", valueName: "file"))
    var export: String?

    @Flag(name: .long, help: "Run without a window.")
    var headless = false

    @Option(name: .long, help: ArgumentHelp("The window's (or the exported view's) size in points, WxH.", valueName: "WxH"))
    var size: String = "1280x800"

    func run() throws {
        let replay: SessionReplay
        do throws(SessionError) { replay = try SessionReplay(directory: directory, layer: layer) } catch { throw UserError(error.description) }
        let (width, height) = try Render.parseSize(size)
        if let export {
            do throws(RecordingError) { try VideoRecorder.checkDestination(export) } catch { throw UserError(error.description) }
        }
        StopSignals.install()
        var c = SessionConfiguration(modelPath: model.model ?? replay.header.model, threads: try model.threadCount(),
                                     output: headless ? .headless : .window(width: width, height: height),
                                     cameras: CameraSystem.current, log: { note($0) })
        guard FileManager.default.isReadableFile(atPath: c.modelPath) else {
            throw UserError("The model \(c.modelPath) does not exist or cannot be read (give --model).")
        }
        c.replay = replay
        c.layer = layer
        c.frameLimit = replay.frames.count
        c.recordPath = export.map { ($0 as NSString).isAbsolutePath ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 }
        c.offscreenSize = (width, height)
        // Deterministic: a fresh projection for every frame, and a network that may be slower than
        // the recording without the capture side calling it a stall.
        c.adaptiveProjection = false
        c.capture.stallTimeout = 86_400 * Nanoseconds.second
        let result = try Session(c).run()
        for line in result.pipeline.lines { print(line) }
        if let window = result.window { for line in window.lines { print(line) } }
        if let last = result.latest {
            print("top-1       \(last.index) \(result.model.label(last.index)) (\(String(format: "%.1f", Double(last.probability) * 100))%) on frame \(last.frameNumber)")
        }
    }
}
