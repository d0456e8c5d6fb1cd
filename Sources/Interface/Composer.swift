import Engine
import Visualization

/// Draws the whole window from a `VisualSnapshot` and the view settings into its canvas, and keeps
/// the frame's geometry for hit testing. Allocates nothing per frame once the canvas has its size
/// and the layer's shape has been seen.
public final class Composer: @unchecked Sendable {
    public let fonts: Fonts
    public let theme: Theme
    public let scale: Int
    public let painter: PanePainter
    public let canvas: Canvas
    public private(set) var geometry: FrameGeometry
    private let grid = ActivationGridRenderer()
    private var text = TextBuffer()
    private var detail = TextBuffer()
    /// Status text to show instead of the pipeline's numbers (e.g. "single frame").
    public var statusOverride: String?

    public init(fonts: Fonts, width: Int, height: Int, scale: Int = 1, theme: Theme = .dark) {
        self.fonts = fonts
        self.theme = theme
        self.scale = max(1, scale)
        painter = PanePainter(fonts: fonts, theme: theme, scale: self.scale)
        canvas = Canvas(width: width, height: height)
        geometry = FrameGeometry(layout: Composer.layout(width: width, height: height, scale: self.scale, fonts: fonts))
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
        g.mapHeight = s.fullyConnected ? 0 : s.height
        g.mapWidth = s.fullyConnected ? 0 : s.width
        g.inputPicture = painter.input(canvas, layout.input, snapshot: s)
        painter.projection(canvas, layout.projection, snapshot: s, mode: view.mode, filter: view.filter)
        g.unitPicture = painter.unit(canvas, layout.unit, snapshot: s, colormap: view.colormap)
        if view.zoom && !s.fullyConnected && s.channels > 0 {
            // The unit enlarged in place of the grid; clicks on it pick positions.
            g.unitPicture = painter.unit(canvas, layout.grid, snapshot: s, colormap: view.colormap)
        } else {
            drawGrid(s, view: view, geometry: &g)
        }
        let strip = painter.layerStrip(canvas, layout.layers, names: s.layerNames, selected: s.layer, hovered: view.hoverLayer)
        g.stripFirst = strip.first; g.stripRowHeight = strip.rowHeight; g.stripRows = strip.rows
        g.layerCount = s.layerNames.count
        let top = painter.top(canvas, layout.top, snapshot: s)
        g.topRows = top.rows; g.topRowHeight = top.rowHeight
        g.topClasses.removeAll(keepingCapacity: true)
        for e in s.top { g.topClasses.append(e.index) }
        drawStatus(s, view: view)
        if view.help { painter.help(canvas, canvas.bounds, bindings: Bindings.help) }
        geometry = g
        return canvas
    }

    // MARK: - The activation grid

    private func drawGrid(_ s: VisualSnapshot, view: ViewSettings, geometry g: inout FrameGeometry) {
        let layout = g.layout
        let name = s.layerNames.indices.contains(s.layer) ? s.layerNames[s.layer] : "—"
        text.reset()
        text.append(name); text.append("  ")
        text.append(s.channels); text.append(s.fullyConnected ? " units" : " channels")
        if !s.fullyConnected { text.append(" of "); text.append(s.height); text.append("×"); text.append(s.width) }
        if s.gridShowsGradient { text.append("  · projection gradient") }
        let rough = TileGrid.fit(count: s.channels, mapHeight: max(1, s.height), mapWidth: max(1, s.width),
                                 in: layout.grid.splitTop(painter.captionHeight).rest.inset(painter.padding), minimumTile: 4 * scale)
        let page = rough.page(of: view.unit)
        detail.reset()
        if let hover = view.hoverTile, hover < s.channels {
            detail.append("unit "); detail.append(hover)
            if let labels = s.channelLabels, hover < labels.count { detail.append(" "); detail.append(labels[hover]) }
            detail.append(" = ")
            detail.append(hoverValue(s, hover), decimals: 2)
            detail.append(s.fullyConnected ? "" : " (max)")
        } else {
            detail.append(view.colormap.rawValue); detail.append(" · γ "); detail.append(view.gamma, decimals: 2)
            detail.append(" · boost "); detail.append(view.boost, decimals: 2)
            if rough.pages > 1 { detail.append(" · page "); detail.append(page + 1); detail.append("/"); detail.append(rough.pages) }
        }
        let content = painter.frame(canvas, layout.grid, title: text.string, detail: detail.string)
        guard s.channels > 0 else { return }
        let area = content.inset(painter.padding)
        let tiles = TileGrid.fit(count: s.channels, mapHeight: max(1, s.height), mapWidth: max(1, s.width), in: area, minimumTile: 4 * scale)
        g.grid = tiles
        g.page = page
        canvas.clipped(to: area) {
            s.activations.withUnsafeBufferPointer {
                grid.draw($0, channels: s.channels, height: max(1, s.height), width: max(1, s.width), grid: tiles, page: page,
                          style: GridStyle(colormap: view.colormap, gamma: view.gamma, boost: view.boost), on: canvas)
            }
            if view.labels { drawTileLabels(s, tiles: tiles, page: page) }
            if let hover = view.hoverTile, tiles.range(page: page).contains(hover) {
                canvas.outline(tiles.rect(of: hover, page: page).inset(-1), theme.hover, thickness: scale)
            }
            if tiles.range(page: page).contains(s.channel) {
                canvas.outline(tiles.rect(of: s.channel, page: page).inset(-2 * scale), theme.accent, thickness: 2 * scale)
            }
        }
    }

    /// Channel numbers (or class names) in the tiles' corners, where they fit.
    private func drawTileLabels(_ s: VisualSnapshot, tiles: TileGrid, page: Int) {
        let font = fonts.small
        let digits = font.width(of: "0000")
        guard tiles.tileHeight >= font.lineHeight * 2, tiles.tileWidth >= digits + 2 * scale else { return }
        for i in tiles.range(page: page) {
            let r = tiles.rect(of: i, page: page)
            text.reset()
            if let labels = s.channelLabels, i < labels.count { text.append(labels[i]) } else { text.append(i) }
            let w = min(r.width, font.width(of: text.string) + 4 * scale)
            let tag = Rect(x: r.x, y: r.y, width: w, height: font.lineHeight)
            canvas.fill(tag, theme.background.withAlpha(170))
            canvas.draw(text.string, font: font, x: r.x + 2 * scale, y: r.y, color: theme.text, maxWidth: r.width - 4 * scale)
        }
    }

    private func hoverValue(_ s: VisualSnapshot, _ c: Int) -> Float {
        s.withChannel(c) { v in v.isEmpty ? 0 : v.max() ?? 0 }
    }

    // MARK: - Status

    private func drawStatus(_ s: VisualSnapshot, view: ViewSettings) {
        text.reset()
        if !s.source.isEmpty { text.append(s.source); text.append("  │  ") }
        let name = s.layerNames.indices.contains(s.layer) ? s.layerNames[s.layer] : "—"
        text.append(name); text.append(":"); text.append(s.channel)
        if let p = s.position { text.append(" @"); text.append(p.y); text.append(","); text.append(p.x) }
        text.append("  │  ")
        if let m = view.mode { text.append(m.rawValue); text.append(" · "); text.append(view.filter.rawValue) } else { text.append("projection off") }
        text.append("  │  ")
        if let o = statusOverride {
            text.append(o)
        } else {
            text.append("capture "); text.append(s.stats.captureFPS, decimals: 1)
            text.append(" fps · inference "); text.append(s.stats.inferenceFPS, decimals: 1)
            if s.stats.displayFPS > 0 { text.append(" fps · display "); text.append(s.stats.displayFPS, decimals: 1) }
            text.append(" fps · latency "); text.append(s.stats.latencyMs, decimals: 0)
            text.append(" ms · dropped "); text.append(s.stats.dropped)
        }
        painter.status(canvas, geometry.layout.status, line: text.string, message: s.message.isEmpty ? "H: help" : s.message)
    }
}
