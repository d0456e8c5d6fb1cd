import Visualization

/// The help overlay: a veil over the window and a centred box listing every binding in one or
/// two columns (the rows of `Bindings.help`). Drawn last, over everything; not clickable.
public final class HelpPane {
    public let painter: PanePainter

    public init(painter: PanePainter) { self.painter = painter }

    public func draw(_ canvas: Canvas, _ rect: Rect, bindings: [(key: String, action: String)] = Bindings.help) {
        let fonts = painter.fonts, theme = painter.theme, scale = painter.scale, padding = painter.padding
        canvas.veil(rect, theme.background, amount: 215)
        let keyWidth = bindings.map { fonts.mono.width(of: $0.key) }.max() ?? 0
        let actionWidth = bindings.map { fonts.small.width(of: $0.action) }.max() ?? 0
        let columnWidth = keyWidth + 2 * padding + actionWidth
        let rowHeight = fonts.body.lineHeight + 2 * scale
        let columns = rect.width >= 2 * columnWidth + 6 * padding ? 2 : 1   // 4 paddings between, 1 each side
        let perColumn = (bindings.count + columns - 1) / columns
        let boxW = min(rect.width, columns * columnWidth + (columns - 1) * 4 * padding + 2 * padding)
        let boxH = min(rect.height, painter.captionHeight + perColumn * rowHeight + 2 * padding)
        let box = Rect(x: rect.x + (rect.width - boxW) / 2, y: rect.y + (rect.height - boxH) / 2, width: boxW, height: boxH)
        canvas.outline(box.inset(-1), theme.border)
        let body = painter.frame(canvas, box, title: "Keys and mouse", detail: "H or ? closes").inset(padding)
        canvas.clipped(to: body) {
            for (i, b) in bindings.enumerated() {
                let col = i / perColumn, row = i % perColumn
                let x = body.x + col * (columnWidth + 4 * padding), y = body.y + row * rowHeight
                canvas.draw(b.key, font: fonts.mono, x: x, y: y, color: theme.accent)
                canvas.draw(b.action, font: fonts.small, x: x + keyWidth + 2 * padding, y: y + (fonts.body.lineHeight - fonts.small.lineHeight) / 2,
                            color: theme.text, maxWidth: actionWidth + padding)
            }
        }
    }
}
