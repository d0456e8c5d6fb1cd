import Visualization

/// Every layer's name, the selected one highlighted, scrolled so that it shows. Reads the
/// snapshot's layer names and selected layer; a click on a row selects that layer.
public final class LayersPane {
    public let painter: PanePainter
    private var detail = TextBuffer()

    /// The rows as drawn, for hit testing.
    public struct Geometry: Sendable, Equatable {
        /// The first visible layer, the row height, how many layers there are, where the rows are.
        public var first = 0
        public var rowHeight = 1
        public var count = 0
        public var rows: Rect = .zero

        public init(first: Int = 0, rowHeight: Int = 1, count: Int = 0, rows: Rect = .zero) {
            self.first = first; self.rowHeight = rowHeight; self.count = count; self.rows = rows
        }

        /// The layer under (x, y).
        public func hit(x: Int, y: Int) -> Hit? {
            guard rows.contains(x: x, y: y) else { return nil }
            let i = first + (y - rows.y) / max(1, rowHeight)
            return i < count ? .layer(i) : nil
        }
    }

    public init(painter: PanePainter) { self.painter = painter }

    /// Draws the pane; returns its rows.
    @discardableResult
    public func draw(_ canvas: Canvas, _ rect: Rect, names: [String], selected: Int, hovered: Int? = nil) -> Geometry {
        let fonts = painter.fonts, theme = painter.theme, scale = painter.scale, padding = painter.padding
        detail.reset(); detail.append(names.count); detail.append(" "); detail.append(names.count == 1 ? "layer" : "layers")
        let content = painter.frame(canvas, rect, title: "Layers", detail: detail.string)
        let rowHeight = fonts.small.lineHeight + 4 * scale
        let rows = max(1, content.height / rowHeight)
        let first = LayerStripScroll.first(selected: selected, count: names.count, visibleRows: rows)
        canvas.clipped(to: content) {
            for row in 0..<rows {
                let i = first + row
                guard i < names.count else { break }
                let r = Rect(x: content.x, y: content.y + row * rowHeight, width: content.width, height: rowHeight)
                if i == selected {
                    canvas.fill(r, theme.accent.withAlpha(60))
                    canvas.fill(Rect(x: r.x, y: r.y, width: 3 * scale, height: r.height), theme.accent)
                } else if i == hovered {
                    canvas.fill(r, theme.border)
                }
                canvas.draw(names[i], font: fonts.small, in: r.inset(dx: padding, dy: 0),
                            color: i == selected ? theme.text : theme.dimText)
            }
        }
        return Geometry(first: first, rowHeight: rowHeight, count: names.count,
                        rows: Rect(x: content.x, y: content.y, width: content.width, height: min(content.height, rows * rowHeight)))
    }
}

/// Which layers the strip shows: the selected one stays in view, a third of the way down.
public enum LayerStripScroll {
    public static func first(selected: Int, count: Int, visibleRows: Int) -> Int {
        guard count > visibleRows, visibleRows > 0 else { return 0 }
        return max(0, min(count - visibleRows, selected - visibleRows / 3))
    }
}
