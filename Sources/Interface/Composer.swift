import Engine
import Visualization

/// Draws the whole window from a `VisualSnapshot` and the view settings into its canvas, routing
/// each rectangle of the `Layout` to its pane (`Panes/*.swift`), and keeps the frame's geometry
/// for hit testing. Allocates nothing per frame once the canvas has its size and the layer's
/// shape has been seen.
public final class Composer: @unchecked Sendable {
    public let fonts: Fonts
    public let theme: Theme
    public let scale: Int
    public let painter: PanePainter
    public let canvas: Canvas
    public private(set) var geometry: FrameGeometry
    /// Status text to show instead of the pipeline's numbers (e.g. "single frame").
    public var statusOverride: String?

    // MARK: - The panes, in drawing order
    private let input: InputPane
    private let projection: ProjectionPane
    private let unit: UnitPane
    private let grid: GridPane
    private let layers: LayersPane
    private let top: TopClassesPane
    private let status: StatusPane
    private let help: HelpPane

    public init(fonts: Fonts, width: Int, height: Int, scale: Int = 1, theme: Theme = .dark) {
        self.fonts = fonts
        self.theme = theme
        self.scale = max(1, scale)
        painter = PanePainter(fonts: fonts, theme: theme, scale: self.scale)
        canvas = Canvas(width: width, height: height)
        geometry = FrameGeometry(layout: Composer.layout(width: width, height: height, scale: self.scale, fonts: fonts))
        input = InputPane(painter: painter)
        projection = ProjectionPane(painter: painter)
        unit = UnitPane(painter: painter)
        grid = GridPane(painter: painter)
        layers = LayersPane(painter: painter)
        top = TopClassesPane(painter: painter)
        status = StatusPane(painter: painter)
        help = HelpPane(painter: painter)
    }

    /// The layout of a window of this size with these fonts.
    public static func layout(width: Int, height: Int, scale: Int, fonts: Fonts) -> Layout {
        let caption = fonts.body.lineHeight + 8 * scale
        let topRow = fonts.body.lineHeight + fonts.small.lineHeight / 2 + 10 * scale
        return Layout(width: width, height: height, scale: scale, statusHeight: fonts.mono.lineHeight + 10 * scale,
                      captionHeight: caption, topHeight: caption + 5 * topRow + 8 * scale)
    }

    /// Changes the window size (the canvas keeps its storage when shrinking).
    public func resize(width: Int, height: Int) {
        canvas.resize(width: width, height: height)
        geometry = FrameGeometry(layout: Composer.layout(width: width, height: height, scale: scale, fonts: fonts))
    }

    /// Composes one frame.
    @discardableResult
    public func compose(_ s: VisualSnapshot, view: ViewSettings) -> Canvas {
        let layout = geometry.layout
        // Reuse the last frame's geometry storage: `geometry` lets go of it first so that `g`'s
        // arrays are uniquely referenced and refilling them allocates nothing.
        var g = geometry
        geometry = FrameGeometry(layout: layout)
        g.reset(layout: layout)
        canvas.clear(theme.background)
        g.input = input.draw(canvas, layout.input, snapshot: s)
        projection.draw(canvas, layout.projection, snapshot: s, mode: view.mode, filter: view.filter)
        g.unit = unit.draw(canvas, layout.unit, snapshot: s, colormap: view.colormap)
        if view.zoom && !s.fullyConnected && s.channels > 0 {
            // The unit enlarged in place of the grid; clicks on it pick positions.
            g.unit = unit.draw(canvas, layout.grid, snapshot: s, colormap: view.colormap)
        } else {
            (g.grid, g.page) = grid.draw(canvas, layout.grid, snapshot: s, view: view)
        }
        g.layers = layers.draw(canvas, layout.layers, names: s.layerNames, selected: s.layer, hovered: view.hoverLayer)
        top.draw(canvas, layout.top, snapshot: s, into: &g.top)
        status.draw(canvas, layout.status, snapshot: s, view: view, override: statusOverride)
        if view.help { help.draw(canvas, canvas.bounds, bindings: Bindings.help) }
        geometry = g
        return canvas
    }
}
