// One frame of the window's view, composed off-screen into a PNG: what `deepscope render` asks a
// session for (an image source, a frame limit of one, a PNG sink).

import Capture
import Engine
import Foundation
import Interface
import Support
import Visualization

/// The view to compose for a session whose output is `.still`: its size, what is selected and
/// how it is drawn, and the PNG it goes to.
public struct StillView: Sendable, Equatable {
    /// The PNG to write (replaced atomically).
    public var path: String
    /// Canvas size in pixels and pixels per layout unit.
    public var width: Int
    public var height: Int
    public var scale = 1
    /// The layer to show (nil: the window's default layer), the unit (nil: the layer's most active
    /// channel on the frame), the projection's seed position (nil: the whole map).
    public var layer: String?
    public var unit: Int?
    public var position: Selection.Position?
    /// nil: the network's default mode; `.some(nil)`: projections off.
    public var mode: ProjectionMode??
    public var filter = ProjectionFilter.raw
    public var colormap = Colormap.Kind.gray
    /// Draw the help overlay on top.
    public var help = false

    public init(path: String, width: Int, height: Int) {
        self.path = path
        self.width = width
        self.height = height
    }
}

extension Session {
    /// Runs the pipeline for its one frame, then selects, projects and composes the view for that
    /// frame on the calling thread and hands it to the session's sinks (a `SnapshotSink` writing
    /// `still.path`, attached here), and stops.
    /// - Throws: `SessionError`: a layer, unit or position that does not fit the model (bad input),
    ///   fonts or a PNG that cannot be written (failure).
    func runStill(_ still: StillView) throws(SessionError) -> SessionResult {
        let png = SnapshotSink(log: { _ in })
        attach(png)
        defer { stop() }
        let builder = Self.snapshotBuilder(model: model, network: network)
        let layer = try still.layer.map { (name) throws(SessionError) in
            try Self.layerIndex(name, builder: builder, graph: network.graph, path: model.url.path)
        } ?? builder.defaultLayer
        start()
        while !StopSignals.requested && !pipeline.isFinished {
            _ = pipeline.waitUntilFinished(timeout: 100 * Nanoseconds.millisecond)
        }
        // The inference thread has finished: the network holds the frame's activations.
        pipeline.stop()
        guard pipeline.isFinished else { throw SessionError("Stopped before the frame was inferred.", badInput: false) }

        let selection = Selection(layer: layer, channel: still.unit ?? builder.mostActiveChannel(layer: layer),
                                  position: still.position, mode: still.mode ?? builder.defaultMode, filter: still.filter)
        do { try builder.validate(selection) } catch { throw SessionError(String(describing: error)) }
        let snapshot = VisualSnapshot()
        let before = MonotonicClock.now()
        do { try builder.fill(snapshot, selection: selection) } catch { throw SessionError(String(describing: error)) }
        let fillMs = Double(MonotonicClock.now() - before) / 1e6
        snapshot.source = "image: " + ((sources[0] as? ImageSource).map { ($0.path as NSString).lastPathComponent } ?? sources[0].name)

        let fonts: Fonts
        do { fonts = try FontLoader.standard(scale: still.scale) } catch { throw SessionError(String(describing: error), badInput: false) }
        var view = ViewSettings()
        view.layer = selection.layer
        view.unit = selection.channel
        view.position = selection.position
        view.mode = selection.mode
        view.filter = selection.filter
        view.colormap = still.colormap
        view.help = still.help
        let composer = Composer(fonts: fonts, width: still.width, height: still.height, scale: still.scale)
        let forwardMs = pipeline.forwardTimes.summary().medianMilliseconds
        composer.statusOverride = String(format: "one frame · forward %.0f ms · projection %.0f ms", forwardMs, fillMs)
        let canvas = composer.compose(snapshot, view: view)
        png.request(path: still.path)
        sinks.receive(frame: ComposedFrame(canvas: canvas, time: MonotonicClock.now()))
        png.close()
        if let failure = png.writeFailures.first { throw SessionError(failure, badInput: false) }
        return SessionResult(model: model, pipeline: pipeline.report(), window: nil, latest: pipeline.latestClassification)
    }
}
