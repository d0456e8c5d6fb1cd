import Engine

/// The window's colours: a calm dark theme.
public struct Theme: Sendable {
    public var background = Color(hex: 0x121419)
    public var panel = Color(hex: 0x1B1E25)
    public var caption = Color(hex: 0x232731)
    public var border = Color(hex: 0x2E333F)
    public var text = Color(hex: 0xE3E6EC)
    public var dimText = Color(hex: 0x8C93A1)
    public var accent = Color(hex: 0x5AA9FF)
    public var hover = Color(hex: 0xFFC857)
    public var bar = Color(hex: 0x3C7DD9)
    public var barTrack = Color(hex: 0x2A2F3A)
    public var warning = Color(hex: 0xFF8A65)

    public init() {}
    public static let dark = Theme()
}

/// The fonts a window draws with.
public struct Fonts: Sendable {
    /// Captions, names, labels.
    public var body: GlyphAtlas
    /// Secondary text (values, hints).
    public var small: GlyphAtlas
    /// Numbers and the status line.
    public var mono: GlyphAtlas

    public init(body: GlyphAtlas, small: GlyphAtlas, mono: GlyphAtlas) {
        self.body = body; self.small = small; self.mono = mono
    }
}

/// Drawing of the window's panes into a `Canvas`, SDL-free. Each function draws inside its
/// rectangle only and allocates nothing beyond the reused text buffer.
public final class PanePainter: @unchecked Sendable {
    public let fonts: Fonts
    public let theme: Theme
    /// Pixels per layout unit (2 on a HiDPI screen).
    public let scale: Int
    public var text = TextBuffer()
    private var scratch = TextBuffer()

    public init(fonts: Fonts, theme: Theme = .dark, scale: Int = 1) {
        self.fonts = fonts
        self.theme = theme
        self.scale = max(1, scale)
    }

    /// The height of a pane's caption row.
    public var captionHeight: Int { fonts.body.lineHeight + 8 * scale }
    public var padding: Int { 6 * scale }

    /// A pane's background and caption (`text` is drawn as the title, `detail` right-aligned in
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

    // MARK: - Input

    /// The frame as the network sees it, with the selected position's cell outlined.
    @discardableResult
    public func input(_ canvas: Canvas, _ rect: Rect, snapshot s: VisualSnapshot) -> Rect {
        let content = frame(canvas, rect, title: "Input", detail: s.inputWidth > 0 ? dims(s.inputWidth, s.inputHeight) : "")
        guard s.inputWidth > 0 else { return .zero }
        let pic = pictureRect(in: content, width: s.inputWidth, height: s.inputHeight)
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
        return pic
    }

    // MARK: - Unit

    /// The selected channel's map enlarged, scaled to its own range, with that range labelled.
    @discardableResult
    public func unit(_ canvas: Canvas, _ rect: Rect, snapshot s: VisualSnapshot, colormap: Colormap.Kind) -> Rect {
        let name = s.layerNames.indices.contains(s.layer) ? s.layerNames[s.layer] : "?"
        text.reset(); text.append("Unit "); text.append(s.channel)
        if let labels = s.channelLabels, s.channel < labels.count { text.append(" "); text.append(labels[s.channel]) }
        scratch.reset()
        if s.fullyConnected { scratch.append(name) } else { scratch.append(s.height); scratch.append("×"); scratch.append(s.width) }
        let content = frame(canvas, rect, title: text.string, detail: scratch.string)
        guard s.channels > 0, s.channel < s.channels else { return .zero }
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
            return .zero
        }
        let pic = pictureRect(in: content, width: s.width, height: s.height, reserveBottom: legend)
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
        return pic
    }

    /// A colour bar from `lo` to `hi` with both values written at its ends (and a marker at `marker`).
    public func rangeLegend(_ canvas: Canvas, _ rect: Rect, lo: Float, hi: Float, map: Colormap, marker: Float? = nil) {
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
    func precision(_ lo: Float, _ hi: Float) -> Int {
        let m = max(abs(lo), abs(hi))
        return m >= 100 ? 0 : (m >= 10 ? 1 : (m >= 0.1 ? 2 : 3))
    }

    // MARK: - Projection

    /// The projection of the selected unit; dimmed with a note when it belongs to another unit.
    public func projection(_ canvas: Canvas, _ rect: Rect, snapshot s: VisualSnapshot, mode: ProjectionMode?, filter: ProjectionFilter) {
        text.reset()
        text.append("Projection")
        scratch.reset()
        if let m = mode { scratch.append(m.rawValue); scratch.append(" · "); scratch.append(filter.rawValue) } else { scratch.append("off") }
        if s.projectionPinned && s.hasProjection && s.layerNames.indices.contains(s.projectionLayer) {
            text.append(" · pinned "); text.append(s.layerNames[s.projectionLayer]); text.append(":"); text.append(s.projectionChannel)
        }
        let content = frame(canvas, rect, title: text.string, detail: scratch.string)
        guard mode != nil else {
            canvas.draw("off — press P to choose a mode", font: fonts.small, in: content, color: theme.dimText, alignment: .center)
            return
        }
        guard s.hasProjection else {
            canvas.draw("computing…", font: fonts.small, in: content, color: theme.dimText, alignment: .center)
            return
        }
        let stale = s.projectionIsStale || s.projectionMode != mode || s.projectionFilter != filter
        let pic = pictureRect(in: content, width: s.projectionWidth, height: s.projectionHeight)
        canvas.fill(pic, theme.background)
        s.projection.withUnsafeBufferPointer {
            canvas.blit($0.baseAddress!, width: s.projectionWidth, height: s.projectionHeight, channels: 3, into: pic, alpha: stale ? 90 : 255)
        }
        if stale {
            canvas.draw("stale — updating", font: fonts.small, in: pic.splitBottom(fonts.small.lineHeight + 6 * scale).bottom,
                        color: theme.hover, alignment: .center)
        }
    }

    // MARK: - Top classes

    /// The top classes as labelled bars with percentages.
    @discardableResult
    public func top(_ canvas: Canvas, _ rect: Rect, snapshot s: VisualSnapshot) -> (rows: Rect, rowHeight: Int) {
        let content = frame(canvas, rect, title: "Top classes").inset(dx: padding, dy: padding / 2)
        guard !s.top.isEmpty, !content.isEmpty else {
            canvas.draw("no class output", font: fonts.small, in: content, color: theme.dimText, alignment: .center)
            return (.zero, 1)
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
        return (Rect(x: content.x, y: content.y, width: content.width, height: min(content.height, rowHeight * s.top.count)), rowHeight)
    }

    // MARK: - Layer strip

    /// Every layer's name, the selected one highlighted, scrolled so it shows. Returns the first
    /// visible layer and the row height (for hit testing).
    @discardableResult
    public func layerStrip(_ canvas: Canvas, _ rect: Rect, names: [String], selected: Int, hovered: Int? = nil) -> (first: Int, rowHeight: Int, rows: Rect) {
        let content = frame(canvas, rect, title: "Layers", detail: count(names.count, "layer", "layers"))
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
        return (first, rowHeight, Rect(x: content.x, y: content.y, width: content.width, height: min(content.height, rows * rowHeight)))
    }

    // MARK: - Status and help

    /// One line at the bottom: what is shown and how fast.
    public func status(_ canvas: Canvas, _ rect: Rect, line: String, message: String) {
        canvas.fill(rect, theme.caption)
        canvas.fill(Rect(x: rect.x, y: rect.y, width: rect.width, height: 1), theme.border)
        let inner = rect.inset(dx: padding, dy: 0)
        let messageWidth = message.isEmpty ? 0 : min(fonts.small.width(of: message) + padding, inner.width / 3)
        let (left, right) = inner.splitRight(messageWidth)
        canvas.draw(line, font: fonts.mono, in: left, color: theme.text)
        if messageWidth > 0 { canvas.draw(message, font: fonts.small, in: right, color: theme.hover, alignment: .right) }
    }

    /// A veil over `rect` and a centred box listing every binding in two columns.
    public func help(_ canvas: Canvas, _ rect: Rect, bindings: [(key: String, action: String)]) {
        canvas.veil(rect, theme.background, amount: 215)
        let keyWidth = bindings.map { fonts.mono.width(of: $0.key) }.max() ?? 0
        let actionWidth = bindings.map { fonts.small.width(of: $0.action) }.max() ?? 0
        let columnWidth = keyWidth + 2 * padding + actionWidth
        let rowHeight = fonts.body.lineHeight + 2 * scale
        let columns = rect.width >= 2 * columnWidth + 6 * padding ? 2 : 1   // 4 paddings between, 1 each side
        let perColumn = (bindings.count + columns - 1) / columns
        let boxW = min(rect.width, columns * columnWidth + (columns - 1) * 4 * padding + 2 * padding)
        let boxH = min(rect.height, captionHeight + perColumn * rowHeight + 2 * padding)
        let box = Rect(x: rect.x + (rect.width - boxW) / 2, y: rect.y + (rect.height - boxH) / 2, width: boxW, height: boxH)
        canvas.outline(box.inset(-1), theme.border)
        let body = frame(canvas, box, title: "Keys and mouse", detail: "H or ? closes").inset(padding)
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

    private func dims(_ w: Int, _ h: Int) -> String {
        scratch.reset(); scratch.append(w); scratch.append("×"); scratch.append(h)
        return scratch.string
    }

    private func count(_ n: Int, _ one: String, _ many: String) -> String {
        scratch.reset(); scratch.append(n); scratch.append(" "); scratch.append(n == 1 ? one : many)
        return scratch.string
    }
}

/// Which layers the strip shows: the selected one stays in view, a third of the way down.
public enum LayerStripScroll {
    public static func first(selected: Int, count: Int, visibleRows: Int) -> Int {
        guard count > visibleRows, visibleRows > 0 else { return 0 }
        return max(0, min(count - visibleRows, selected - visibleRows / 3))
    }
}
