import ArgumentParser
import Capture
import Daemon
import Engine
import Foundation
import Interface
import ModelIO
import Visualization

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Composes the live window for one image into a PNG, without a display.",
        discussion: """
            Runs one forward pass on IMG, projects the selected unit (guided backprop on networks
            without max pooling, deconv on those with it, unless --mode says otherwise) and draws the
            window: input, projection, unit, activation grid, layers, top classes and status line.
            Without --layer, the rectified output of the last spatial convolution whose map is at
            least 1/16 of the input's size (the window's default layer); without --unit, that
            layer's most active channel.
            """)

    @OptionGroup var options: ModelOptions

    @Option(name: .long, help: "The image (PNG or JPEG).")
    var image: String

    @Option(name: .long, help: "The layer to show (an ONNX node output name; `inspect` lists them).")
    var layer: String?

    @Option(name: .long, help: "The selected unit (channel) of the layer.")
    var unit: Int?

    @Option(name: .long, help: "Seed position Y,X in the layer's map for the projection (default: the whole map).")
    var at: String?

    @Option(name: .long, help: "Projection: deconv, guided, gradient or off (default: by network, see above).")
    var mode: String?

    @Option(name: .long, help: "Projection filter: raw, gray, norm or norm+blur.")
    var filter: String = "raw"

    @Option(name: .long, help: "Activation colormap: gray or viridis.")
    var colormap: String = "gray"

    @Option(name: .long, help: "Window size WxH in pixels.")
    var size: String = "1280x800"

    @Option(name: .long, help: "Pixels per layout unit (2 for a HiDPI screen).")
    var scale: Int = 1

    @Flag(name: .long, help: "Draw the help overlay on top.")
    var showHelp = false

    @Option(name: .long, help: "The PNG to write (replaced atomically).")
    var out: String

    func run() throws {
        let (width, height) = try Self.parseSize(size)
        guard (1...4).contains(scale) else { throw UserError("--scale must be between 1 and 4, got \(scale).") }
        let projectionMode = try mode.map(Self.parseMode)   // nil: not given
        guard let projectionFilter = ProjectionFilter(rawValue: filter) else {
            throw UserError("--filter must be raw, gray, norm or norm+blur, not '\(filter)'.")
        }
        guard let map = Colormap.Kind(rawValue: colormap) else {
            throw UserError("--colormap must be gray or viridis, not '\(colormap)'.")
        }
        let position = try at.map(Project.parsePosition)

        // A session like `run`'s: the image as its source, one frame, the composed view into a PNG.
        var still = StillView(path: out, width: width, height: height)
        still.scale = scale
        still.layer = layer
        still.unit = unit
        still.position = position.map { Selection.Position(y: $0.y, x: $0.x) }
        still.mode = projectionMode
        still.filter = projectionFilter
        still.colormap = map
        still.help = showHelp
        var c = SessionConfiguration(modelPath: try options.checkedModelPath(), threads: try options.threadCount(),
                                     output: .still(still), cameras: CameraSystem.current, log: { note($0) })
        c.source = .image(path: image, SourceOptions())
        c.frameLimit = 1
        // A SessionError is a DeepScopeError: main reports its sentence and exit status.
        _ = try Session(c).run()
    }

    /// `--mode`: a projection mode, or nil for "off".
    static func parseMode(_ text: String) throws -> ProjectionMode? {
        if text == "off" { return nil }
        guard let mode = ProjectionMode(rawValue: text) else {
            throw UserError("--mode must be deconv, guided, gradient or off, not '\(text)'.")
        }
        return mode
    }

    static func parseSize(_ text: String) throws -> (Int, Int) {
        let parts = text.lowercased().split(whereSeparator: { $0 == "x" || $0 == "×" })
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), (1...8192).contains(w), (1...8192).contains(h) else {
            throw UserError("--size takes WxH with each between 1 and 8192 pixels, not '\(text)'.")
        }
        return (w, h)
    }
}
