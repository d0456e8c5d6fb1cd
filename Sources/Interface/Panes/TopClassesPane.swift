import Visualization

/// The top classes as labelled bars with percentages. Reads the snapshot's `top`; a click on a
/// row selects that class's unit in the output layer.
public final class TopClassesPane {
    public let painter: PanePainter
    private var text = TextBuffer()

    /// The rows as drawn, for hit testing.
    public struct Geometry: Sendable, Equatable {
        public var rows: Rect = .zero
        public var rowHeight = 1
        /// The class index of each row.
        public var classes: [Int] = []

        public init() {}

        /// Back to an empty pane, keeping the storage of `classes`.
        public mutating func reset() {
            rows = .zero; rowHeight = 1
            classes.removeAll(keepingCapacity: true)
        }

        /// The class under (x, y).
        public func hit(x: Int, y: Int) -> Hit? {
            guard rows.contains(x: x, y: y) else { return nil }
            let i = (y - rows.y) / max(1, rowHeight)
            return i < classes.count ? .topClass(classes[i]) : nil
        }
    }

    public init(painter: PanePainter) { self.painter = painter }

    /// Draws the pane and fills `geometry` (reset first) with its rows.
    public func draw(_ canvas: Canvas, _ rect: Rect, snapshot s: VisualSnapshot, into geometry: inout Geometry) {
        let fonts = painter.fonts, theme = painter.theme, scale = painter.scale, padding = painter.padding
        geometry.reset()
        let content = painter.frame(canvas, rect, title: "Top classes").inset(dx: padding, dy: padding / 2)
        guard !s.top.isEmpty, !content.isEmpty else {
            canvas.draw("no class output", font: fonts.small, in: content, color: theme.dimText, alignment: .center)
            return
        }
        let rowHeight = max(1, min(content.height / max(1, s.top.count), fonts.body.lineHeight + fonts.small.lineHeight / 2 + 10 * scale))
        let percentWidth = fonts.mono.width(of: "100.0%") + padding
        for (i, e) in s.top.enumerated() {
            let row = Rect(x: content.x, y: content.y + i * rowHeight, width: content.width, height: rowHeight)
            if row.maxY > content.maxY { break }
            let (labelRow, barRow) = row.splitBottom(max(3 * scale, rowHeight / 4))
            let barArea = Rect(x: barRow.x, y: barRow.y, width: barRow.width, height: max(1, barRow.height - 3 * scale))
            canvas.fill(barArea, theme.barTrack)
            canvas.fill(Rect(x: barArea.x, y: barArea.y, width: Int(Float(barArea.width) * max(0, min(1, e.prob))), height: barArea.height),
                        i == 0 ? theme.accent : theme.bar)
            let (nameRect, pctRect) = labelRow.splitRight(percentWidth)
            canvas.draw(e.label, font: i == 0 ? fonts.body : fonts.small, in: nameRect, color: i == 0 ? theme.text : theme.dimText)
            text.reset(); text.append(e.prob * 100, decimals: 1); text.append("%")
            canvas.draw(text.string, font: fonts.mono, in: pctRect, color: i == 0 ? theme.text : theme.dimText, alignment: .right)
        }
        geometry.rows = Rect(x: content.x, y: content.y, width: content.width, height: min(content.height, rowHeight * s.top.count))
        geometry.rowHeight = rowHeight
        for e in s.top { geometry.classes.append(e.index) }
    }
}
