import Visualization

/// What every pane shares: the fonts, the theme, the scale, and the pane frame (background and
/// caption). Each pane (`Panes/*.swift`) draws inside its own rectangle with it and allocates
/// nothing per frame beyond its own reused text buffers.
public final class PanePainter: @unchecked Sendable {
    public let fonts: Fonts
    public let theme: Theme
    /// Pixels per layout unit (2 on a HiDPI screen).
    public let scale: Int

    public init(fonts: Fonts, theme: Theme = .dark, scale: Int = 1) {
        self.fonts = fonts
        self.theme = theme
        self.scale = max(1, scale)
    }

    /// The height of a pane's caption row.
    public var captionHeight: Int { fonts.body.lineHeight + 8 * scale }
    public var padding: Int { 6 * scale }

    /// A pane's background and caption (`title` on the left, `detail` right-aligned in
    /// dimmer text); returns the content rectangle below the caption.
    @discardableResult
    public func frame(_ canvas: Canvas, _ rect: Rect, title: String, detail: String = "") -> Rect {
        guard !rect.isEmpty else { return rect }
        canvas.fill(rect, theme.panel)
        let (cap, body) = rect.splitTop(captionHeight)
        canvas.fill(cap, theme.caption)
        let inner = cap.inset(dx: padding, dy: 0)
        canvas.clipped(to: cap) {
            let detailWidth = detail.isEmpty ? 0 : min(fonts.small.width(of: detail), inner.width / 2)
            canvas.draw(title, font: fonts.body, in: Rect(x: inner.x, y: inner.y, width: inner.width - detailWidth - padding, height: inner.height),
                        color: theme.text)
            if detailWidth > 0 {
                canvas.draw(detail, font: fonts.small, in: Rect(x: inner.maxX - detailWidth, y: inner.y, width: detailWidth, height: inner.height),
                            color: theme.dimText, alignment: .right)
            }
        }
        return body
    }

    /// Where a picture of `w`×`h` is drawn in a pane's content rectangle (centred, aspect kept).
    public func pictureRect(in content: Rect, width w: Int, height h: Int, reserveBottom: Int = 0) -> Rect {
        content.inset(padding).splitBottom(reserveBottom).rest.fitted(aspectWidth: w, height: h)
    }
}
