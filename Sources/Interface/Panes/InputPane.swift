import Engine
import Visualization

/// The frame as the network sees it, with the selected position's cell and its receptive field
/// outlined. Reads the snapshot's input picture, map size, position and receptive field; a click
/// on the picture picks a position of the map (`MapPicture`).
public final class InputPane {
    public let painter: PanePainter
    private var detail = TextBuffer()

    public init(painter: PanePainter) { self.painter = painter }

    /// Draws the pane; returns where the picture went (empty when there is no input yet).
    @discardableResult
    public func draw(_ canvas: Canvas, _ rect: Rect, snapshot s: VisualSnapshot) -> MapPicture {
        let theme = painter.theme, scale = painter.scale
        detail.reset()
        if s.inputWidth > 0 { detail.append(s.inputWidth); detail.append("×"); detail.append(s.inputHeight) }
        let content = painter.frame(canvas, rect, title: "Input", detail: detail.string)
        guard s.inputWidth > 0 else { return MapPicture() }
        let pic = painter.pictureRect(in: content, width: s.inputWidth, height: s.inputHeight)
        s.input.withUnsafeBufferPointer { canvas.blit($0.baseAddress!, width: s.inputWidth, height: s.inputHeight, channels: 3, into: pic) }
        if let p = s.position, !s.fullyConnected, s.height > 0, s.width > 0 {
            let cell = Rect(x: pic.x + p.x * pic.width / s.width, y: pic.y + p.y * pic.height / s.height,
                            width: max(2, pic.width / s.width), height: max(2, pic.height / s.height))
            canvas.clipped(to: pic) {
                // The unit's receptive field (clipped to the picture), and its cell of the map.
                if let rf = s.receptiveField, rf.sizeY > 1 {
                    let w = rf.window(y: p.y, x: p.x)
                    let sy = Double(pic.height) / Double(s.inputHeight), sx = Double(pic.width) / Double(s.inputWidth)
                    let top = pic.y + Int((max(0, w.top) * sy).rounded()), left = pic.x + Int((max(0, w.left) * sx).rounded())
                    let bottom = pic.y + Int((min(Double(s.inputHeight), w.bottom) * sy).rounded())
                    let right = pic.x + Int((min(Double(s.inputWidth), w.right) * sx).rounded())
                    if bottom > top && right > left {
                        canvas.outline(Rect(x: left, y: top, width: right - left, height: bottom - top), theme.accent, thickness: max(1, scale))
                    }
                }
                canvas.outline(cell.inset(-1), theme.hover, thickness: max(1, scale))
            }
        }
        return MapPicture(picture: pic, mapHeight: s.fullyConnected ? 0 : s.height, mapWidth: s.fullyConnected ? 0 : s.width)
    }
}
