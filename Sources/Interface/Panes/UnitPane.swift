import Visualization

/// The selected channel's map enlarged, scaled to its own range, with that range labelled (for a
/// fully connected layer: the unit's value as a number and a bar). Reads the snapshot's
/// activations, selected channel, position and labels; a click on the map picks a position
/// (`MapPicture`). Zoomed (Z), the composer draws it in the grid's place too.
public final class UnitPane {
    public let painter: PanePainter
    private var text = TextBuffer()
    private var scratch = TextBuffer()

    public init(painter: PanePainter) { self.painter = painter }

    /// Draws the pane; returns where the map went (empty for a fully connected layer).
    @discardableResult
    public func draw(_ canvas: Canvas, _ rect: Rect, snapshot s: VisualSnapshot, colormap: Colormap.Kind) -> MapPicture {
        let fonts = painter.fonts, theme = painter.theme, scale = painter.scale, padding = painter.padding
        let name = s.layerNames.indices.contains(s.layer) ? s.layerNames[s.layer] : "?"
        text.reset(); text.append("Unit "); text.append(s.channel)
        if let labels = s.channelLabels, s.channel < labels.count { text.append(" "); text.append(labels[s.channel]) }
        scratch.reset()
        if s.fullyConnected { scratch.append(name) } else { scratch.append(s.height); scratch.append("×"); scratch.append(s.width) }
        let content = painter.frame(canvas, rect, title: text.string, detail: scratch.string)
        guard s.channels > 0, s.channel < s.channels else { return MapPicture() }
        let map = Colormap.named(colormap)
        let legend = fonts.small.lineHeight + 10 * scale
        if s.fullyConnected {
            // One value: a big number and a bar against the layer's range.
            let v = s.value(channel: s.channel) ?? 0
            let r = s.activations.withUnsafeBufferPointer { valueRange($0) }
            let body = content.inset(padding)
            text.reset(); text.append(v, decimals: 3)
            canvas.draw(text.string, font: fonts.body, in: body.splitTop(body.height / 2).top, color: theme.text, alignment: .center)
            if let labels = s.channelLabels, s.channel < labels.count {
                canvas.draw(labels[s.channel], font: fonts.small, in: body.splitTop(body.height / 2).rest.splitTop(fonts.small.lineHeight + 4).top,
                            color: theme.dimText, alignment: .center)
            }
            rangeLegend(canvas, content.splitBottom(legend).bottom.inset(dx: padding, dy: 0), lo: r.min, hi: r.max, map: map, marker: v)
            return MapPicture()
        }
        let pic = painter.pictureRect(in: content, width: s.width, height: s.height, reserveBottom: legend)
        let r = s.withChannel(s.channel) { valueRange($0) }
        let span = r.max - r.min
        let (h, w) = (s.height, s.width)
        let area = pic.intersection(canvas.clip)
        if !area.isEmpty {
            s.withChannel(s.channel) { plane in
                map.table.withUnsafeBufferPointer { table in
                    for y in area.y..<area.maxY {
                        let sy = min(h - 1, (y - pic.y) * h / pic.height)
                        var p = canvas.pixels + (y * canvas.width + area.x) * 4
                        for x in area.x..<area.maxX {
                            let sx = min(w - 1, (x - pic.x) * w / pic.width)
                            let t = span > 0 ? (plane[sy * w + sx] - r.min) / span : 0
                            let k = Int(max(0, min(1, t)) * 255 + 0.5) * 3
                            p[0] = table[k]; p[1] = table[k + 1]; p[2] = table[k + 2]; p[3] = 255
                            p += 4
                        }
                    }
                }
            }
        }
        if let p = s.position {
            let cell = Rect(x: pic.x + p.x * pic.width / w, y: pic.y + p.y * pic.height / h,
                            width: max(2, pic.width / w), height: max(2, pic.height / h))
            canvas.clipped(to: pic) { canvas.outline(cell, theme.hover, thickness: max(1, scale)) }
        }
        let legendRect = Rect(x: pic.x, y: pic.maxY + 4 * scale, width: pic.width, height: legend - 4 * scale)
        rangeLegend(canvas, legendRect.intersection(content), lo: r.min, hi: r.max, map: map,
                    marker: s.position.flatMap { s.value(channel: s.channel, y: $0.y, x: $0.x) })
        return MapPicture(picture: pic, mapHeight: h, mapWidth: w)
    }

    /// A colour bar from `lo` to `hi` with both values written at its ends (and a marker at `marker`).
    public func rangeLegend(_ canvas: Canvas, _ rect: Rect, lo: Float, hi: Float, map: Colormap, marker: Float? = nil) {
        let fonts = painter.fonts, theme = painter.theme, scale = painter.scale
        guard !rect.isEmpty else { return }
        let barHeight = max(2, 4 * scale)
        let bar = Rect(x: rect.x, y: rect.y, width: rect.width, height: min(barHeight, rect.height))
        for x in bar.x..<bar.maxX {
            let t = bar.width > 1 ? Float(x - bar.x) / Float(bar.width - 1) : 0
            canvas.fill(Rect(x: x, y: bar.y, width: 1, height: bar.height), map.color(t))
        }
        if let m = marker, hi > lo {
            let mx = bar.x + Int((m - lo) / (hi - lo) * Float(bar.width - 1))
            canvas.fill(Rect(x: mx - scale, y: bar.y - 2 * scale, width: 2 * scale + 1, height: bar.height + 4 * scale), theme.hover)
        }
        let labels = Rect(x: rect.x, y: bar.maxY + 2 * scale, width: rect.width, height: max(0, rect.maxY - bar.maxY - 2 * scale))
        text.reset(); text.append("min "); text.append(lo, decimals: precision(lo, hi))
        canvas.draw(text.string, font: fonts.small, in: labels, color: theme.dimText, alignment: .left)
        text.reset(); text.append("max "); text.append(hi, decimals: precision(lo, hi))
        canvas.draw(text.string, font: fonts.small, in: labels, color: theme.dimText, alignment: .right)
    }

    /// Decimals that show a range's values legibly.
    private func precision(_ lo: Float, _ hi: Float) -> Int {
        let m = max(abs(lo), abs(hi))
        return m >= 100 ? 0 : (m >= 10 ? 1 : (m >= 0.1 ? 2 : 3))
    }
}
