import Visualization

/// One line at the bottom of the window: the source, layer:unit and position, the projection
/// mode, frame rates, latency and drops, and on the right the newest message (or "H: help").
/// Reads the snapshot's source, selection and stats; nothing in it is clickable.
public final class StatusPane {
    public let painter: PanePainter
    private var text = TextBuffer()

    public init(painter: PanePainter) { self.painter = painter }

    /// Draws the status of `s` as `view` shows it; `override` replaces the pipeline's numbers
    /// (e.g. "one frame · forward 40 ms" for `render`).
    public func draw(_ canvas: Canvas, _ rect: Rect, snapshot s: VisualSnapshot, view: ViewSettings, override: String? = nil) {
        text.reset()
        if !s.source.isEmpty { text.append(s.source); text.append("  │  ") }
        let name = s.layerNames.indices.contains(s.layer) ? s.layerNames[s.layer] : "—"
        text.append(name); text.append(":"); text.append(s.channel)
        if let p = s.position { text.append(" @"); text.append(p.y); text.append(","); text.append(p.x) }
        text.append("  │  ")
        if let m = view.mode { text.append(m.rawValue); text.append(" · "); text.append(view.filter.rawValue) } else { text.append("projection off") }
        text.append("  │  ")
        if let o = override {
            text.append(o)
        } else {
            text.append("capture "); text.append(s.stats.captureFPS, decimals: 1)
            text.append(" fps · inference "); text.append(s.stats.inferenceFPS, decimals: 1)
            if s.stats.displayFPS > 0 { text.append(" fps · display "); text.append(s.stats.displayFPS, decimals: 1) }
            text.append(" fps · latency "); text.append(s.stats.latencyMs, decimals: 0)
            text.append(" ms · dropped "); text.append(s.stats.dropped)
        }
        draw(canvas, rect, line: text.string, message: s.message.isEmpty ? "H: help" : s.message)
    }

    /// Draws one status line with a message on the right.
    public func draw(_ canvas: Canvas, _ rect: Rect, line: String, message: String) {
        let fonts = painter.fonts, theme = painter.theme, padding = painter.padding
        canvas.fill(rect, theme.caption)
        canvas.fill(Rect(x: rect.x, y: rect.y, width: rect.width, height: 1), theme.border)
        let inner = rect.inset(dx: padding, dy: 0)
        let messageWidth = message.isEmpty ? 0 : min(fonts.small.width(of: message) + padding, inner.width / 3)
        let (left, right) = inner.splitRight(messageWidth)
        canvas.draw(line, font: fonts.mono, in: left, color: theme.text)
        if messageWidth > 0 { canvas.draw(message, font: fonts.small, in: right, color: theme.hover, alignment: .right) }
    }
}
