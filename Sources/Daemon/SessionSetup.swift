// The pieces a session is made of, shared with the one-shot commands (render, classify) so that
// they load the model, prepare the input and build the snapshot the same way.

import Capture
import Engine
import Foundation
import ModelIO
import Visualization

extension Session {
    // MARK: - The model

    /// Loads and plans the model at `path` with `threads` inference threads; any problem with the
    /// file is bad input naming it.
    public static func loadModel(path: String, threads: Int) throws(SessionError) -> (Model, Network) {
        let loaded: Model
        do { loaded = try ModelLoader.load(path: path) } catch { throw SessionError(String(describing: error)) }
        return (loaded, Network(graph: loaded.graph, threads: min(max(threads, 1), 256)))
    }

    /// What the window (and `render`) draws from: the network's layers, its labels and how its input
    /// maps back to pixels.
    public static func snapshotBuilder(model: Model, network: Network) -> SnapshotBuilder {
        SnapshotBuilder(network: network, labels: model.labels, encoding: model.preprocessing.encoding)
    }

    /// The builder's index of layer `name`, or a sentence naming what is wrong.
    public static func layerIndex(_ name: String, builder: SnapshotBuilder, graph: Graph, path: String) throws(SessionError) -> Int {
        guard let value = graph.value(named: name) else {
            if let merged = graph.nodes.first(where: { $0.folded.contains(name) }) {
                throw SessionError("Layer '\(name)' is folded into '\(merged.name)' (its BatchNormalization); use '\(merged.name)'.")
            }
            throw SessionError("The model \(path) has no layer named '\(name)'; `deepscope inspect` lists them.")
        }
        guard let i = builder.layers.firstIndex(of: value) else {
            throw SessionError("Layer '\(name)' is not the output of a node; `deepscope inspect` lists the layers.")
        }
        return i
    }

    // MARK: - The sources

    /// How often the demo slideshow moves to its next photo, and the frame rate it is shown at.
    public static let demoSecondsPerPhoto = 4.0
    public static let demoFrameRate = 15.0

    /// The source asked for, or the first camera, or the demo (the photos of `demoFolder`, else the
    /// synthetic scene) — opened.
    static func openMainSource(_ c: SessionConfiguration) throws(SessionError) -> any FrameSource {
        if let replay = c.replay {
            do throws(CaptureError) { try replay.source.open() } catch { throw SessionError(error.description, badInput: error.isBadInput) }
            return replay.source
        }
        if let spec = c.source {
            let source = SourceFactory.make(spec, system: c.cameras)
            do throws(CaptureError) { try source.open() } catch {
                throw SessionError(error.description, badInput: error.isBadInput)
            }
            return source
        }
        var why = "No camera found (no /dev/video* device)"
        if let camera = CameraProbe.firstCamera(system: c.cameras) {
            let source = V4L2Source(path: camera, system: c.cameras)
            do throws(CaptureError) {
                try source.open()
                return source
            } catch {
                why = String(error.description.dropLast())
            }
        }
        let demo = openDemo(c.demoFolder)
        c.log("\(why); running on the \(demo.kind) instead.")
        return demo.source
    }

    /// The demo: a slideshow of the photos in `folder` (which `Scripts/setup` fills), or the
    /// synthetic scene where there are none.
    static func openDemo(_ folder: String?) -> (source: any FrameSource, kind: String) {
        if let folder {
            let photos = DirectorySource(path: folder, options: SourceOptions(width: 640, height: 480, frameRate: demoFrameRate),
                                         secondsPerImage: demoSecondsPerPhoto)
            if (try? photos.open()) != nil {
                return (photos, "demo photos (\(photos.files.count) in \(folder); S switches to the synthetic scene)")
            }
        }
        let scene = SyntheticSource()
        try? scene.open()
        return (scene, "synthetic demo scene (Scripts/setup puts demo photos in Assets/demo)")
    }
}

extension Model {
    /// The class name of output `index`, or `class <index>` when the model has no labels.
    public func label(_ index: Int) -> String {
        if let labels, index < labels.count { return labels[index] }
        return "class \(index)"
    }
}
