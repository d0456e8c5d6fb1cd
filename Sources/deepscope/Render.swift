import ArgumentParser
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
        let picture = try ImageFile.decode(path: image)

        let (model, network) = try options.load()
        // The session's pieces: the same model loading, input preparation and snapshot building as `run`.
        let builder = Session.snapshotBuilder(model: model, network: network)
        let layerIndex: Int
        if let name = layer {
            let value = try LayerName.resolve(name, in: network.graph)
            guard let i = builder.layers.firstIndex(of: value) else {
                throw UserError("Layer '\(name)' is not the output of a node; `deepscope inspect` lists the layers.")
            }
            layerIndex = i
        } else {
            layerIndex = builder.defaultLayer
        }

        try ImageFile.prepare(picture, preprocessing: model.preprocessing, into: network.input)
        let start = DispatchTime.now().uptimeNanoseconds
        network.forward()
        let forwardMs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        let selection = Selection(layer: layerIndex, channel: unit ?? builder.mostActiveChannel(layer: layerIndex),
                                  position: position.map { Selection.Position(y: $0.y, x: $0.x) },
                                  mode: projectionMode ?? builder.defaultMode, filter: projectionFilter)
        do { try builder.validate(selection) } catch { throw UserError(String(describing: error)) }

        let snapshot = VisualSnapshot()
        let before = DispatchTime.now().uptimeNanoseconds
        do { try builder.fill(snapshot, selection: selection) } catch { throw UserError(String(describing: error)) }
        let fillMs = Double(DispatchTime.now().uptimeNanoseconds - before) / 1e6
        snapshot.source = "image: " + (image as NSString).lastPathComponent

        let fonts: Fonts
        do { fonts = try FontLoader.standard(scale: scale) } catch { throw UserError(String(describing: error), status: 1) }
        var view = ViewSettings()
        view.layer = selection.layer
        view.unit = selection.channel
        view.position = selection.position
        view.mode = selection.mode
        view.filter = selection.filter
        view.colormap = map
        view.help = showHelp
        let composer = Composer(fonts: fonts, width: width, height: height, scale: scale)
        composer.statusOverride = String(format: "one frame · forward %.0f ms · projection %.0f ms", forwardMs, fillMs)
        let canvas = composer.compose(snapshot, view: view)
        do { try canvas.writePNG(to: out) } catch { throw UserError(String(describing: error), status: 1) }
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
