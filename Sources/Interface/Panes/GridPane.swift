import Visualization

/// Every channel of the selected layer as a grid of tiles (paged when there are too many to tile
/// legibly), with channel numbers or class names, the hovered tile and the selected one outlined.
/// Reads the snapshot's activations (or the projection's gradient at this layer) and labels; a
/// click on a tile selects that unit.
public final class GridPane {
    public let painter: PanePainter
    private let renderer = ActivationGridRenderer()
    private var text = TextBuffer()
    private var detail = TextBuffer()

    public init(painter: PanePainter) { self.painter = painter }

    /// Draws the pane; returns the tiles as drawn and the page shown (`.empty` when the layer has
    /// no channels).
    @discardableResult
    public func draw(_ canvas: Canvas, _ rect: Rect, snapshot s: VisualSnapshot, view: ViewSettings) -> (tiles: TileGrid, page: Int) {
        let scale = painter.scale, theme = painter.theme
        let name = s.layerNames.indices.contains(s.layer) ? s.layerNames[s.layer] : "—"
        text.reset()
        text.append(name); text.append("  ")
        text.append(s.channels); text.append(s.fullyConnected ? " units" : " channels")
        if !s.fullyConnected { text.append(" of "); text.append(s.height); text.append("×"); text.append(s.width) }
        if s.gridShowsGradient { text.append("  · projection gradient") }
        let rough = TileGrid.fit(count: s.channels, mapHeight: max(1, s.height), mapWidth: max(1, s.width),
                                 in: rect.splitTop(painter.captionHeight).rest.inset(painter.padding), minimumTile: 4 * scale)
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
        let content = painter.frame(canvas, rect, title: text.string, detail: detail.string)
        guard s.channels > 0 else { return (.empty, 0) }
        let area = content.inset(painter.padding)
        let tiles = TileGrid.fit(count: s.channels, mapHeight: max(1, s.height), mapWidth: max(1, s.width), in: area, minimumTile: 4 * scale)
        canvas.clipped(to: area) {
            s.activations.withUnsafeBufferPointer {
                renderer.draw($0, channels: s.channels, height: max(1, s.height), width: max(1, s.width), grid: tiles, page: page,
                              style: GridStyle(colormap: view.colormap, gamma: view.gamma, boost: view.boost), on: canvas)
            }
            if view.labels { drawTileLabels(canvas, s, tiles: tiles, page: page) }
            if let hover = view.hoverTile, tiles.range(page: page).contains(hover) {
                canvas.outline(tiles.rect(of: hover, page: page).inset(-1), theme.hover, thickness: scale)
            }
            if tiles.range(page: page).contains(s.channel) {
                canvas.outline(tiles.rect(of: s.channel, page: page).inset(-2 * scale), theme.accent, thickness: 2 * scale)
            }
        }
        return (tiles, page)
    }

    /// The tile under (x, y) of a grid drawn as `tiles`, showing `page`.
    public static func hit(_ tiles: TileGrid, page: Int, x: Int, y: Int) -> Hit? {
        guard tiles.area.contains(x: x, y: y), let i = tiles.index(atX: x, y: y, page: page) else { return nil }
        return .tile(i)
    }

    /// Channel numbers (or class names) in the tiles' corners, where they fit.
    private func drawTileLabels(_ canvas: Canvas, _ s: VisualSnapshot, tiles: TileGrid, page: Int) {
        let font = painter.fonts.small, scale = painter.scale
        let digits = font.width(of: "0000")
        guard tiles.tileHeight >= font.lineHeight * 2, tiles.tileWidth >= digits + 2 * scale else { return }
        for i in tiles.range(page: page) {
            let r = tiles.rect(of: i, page: page)
            text.reset()
            if let labels = s.channelLabels, i < labels.count { text.append(labels[i]) } else { text.append(i) }
            let w = min(r.width, font.width(of: text.string) + 4 * scale)
            let tag = Rect(x: r.x, y: r.y, width: w, height: font.lineHeight)
            canvas.fill(tag, painter.theme.background.withAlpha(170))
            canvas.draw(text.string, font: font, x: r.x + 2 * scale, y: r.y, color: painter.theme.text, maxWidth: r.width - 4 * scale)
        }
    }

    private func hoverValue(_ s: VisualSnapshot, _ c: Int) -> Float {
        s.withChannel(c) { v in v.isEmpty ? 0 : v.max() ?? 0 }
    }
}
