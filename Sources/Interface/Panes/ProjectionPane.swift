import Engine
import Visualization

/// The projection of the selected (or pinned) unit onto the input; dimmed with a note while it
/// belongs to another unit, mode or filter than the ones selected. Reads the snapshot's
/// projection picture and what it was made from; nothing in it is clickable.
public final class ProjectionPane {
    public let painter: PanePainter
    private var text = TextBuffer()
    private var scratch = TextBuffer()

    public init(painter: PanePainter) { self.painter = painter }

    public func draw(_ canvas: Canvas, _ rect: Rect, snapshot s: VisualSnapshot, mode: ProjectionMode?, filter: ProjectionFilter) {
        let fonts = painter.fonts, theme = painter.theme, scale = painter.scale
        text.reset()
        text.append("Projection")
        scratch.reset()
        if let m = mode { scratch.append(m.rawValue); scratch.append(" · "); scratch.append(filter.rawValue) } else { scratch.append("off") }
        if s.projectionPinned && s.hasProjection && s.layerNames.indices.contains(s.projectionLayer) {
            text.append(" · pinned "); text.append(s.layerNames[s.projectionLayer]); text.append(":"); text.append(s.projectionChannel)
        }
        let content = painter.frame(canvas, rect, title: text.string, detail: scratch.string)
        guard mode != nil else {
            canvas.draw("off — press P to choose a mode", font: fonts.small, in: content, color: theme.dimText, alignment: .center)
            return
        }
        guard s.hasProjection else {
            canvas.draw("computing…", font: fonts.small, in: content, color: theme.dimText, alignment: .center)
            return
        }
        let stale = s.projectionIsStale || s.projectionMode != mode || s.projectionFilter != filter
        let pic = painter.pictureRect(in: content, width: s.projectionWidth, height: s.projectionHeight)
        canvas.fill(pic, theme.background)
        s.projection.withUnsafeBufferPointer {
            canvas.blit($0.baseAddress!, width: s.projectionWidth, height: s.projectionHeight, channels: 3, into: pic, alpha: stale ? 90 : 255)
        }
        if stale {
            canvas.draw("stale — updating", font: fonts.small, in: pic.splitBottom(fonts.small.lineHeight + 6 * scale).bottom,
                        color: theme.hover, alignment: .center)
        }
    }
}
