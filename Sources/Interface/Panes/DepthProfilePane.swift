import Visualization

/// The intrinsic dimension (left axis, with its spread as a bar) and PCA-90 (right axis) of every
/// layer against relative depth: the "hunchback" of Ansuini et al. Drawn by `deepscope id --plot`.
public final class DepthProfilePane {
    public let painter: PanePainter
    private var text = TextBuffer()

    public init(painter: PanePainter) { self.painter = painter }

    public func draw(_ canvas: Canvas, _ rect: Rect, profile: DepthProfile) {
        let fonts = painter.fonts, theme = painter.theme, scale = painter.scale
        let body = painter.frame(canvas, rect, title: "Intrinsic dimension along the depth",
                                 detail: "TwoNN over \(profile.points) images · PCA-90 on the right")
        let label = fonts.small.lineHeight
        let tickWidth = fonts.mono.width(of: "00000") + painter.padding
        let plot = Rect(x: body.x + tickWidth + painter.padding, y: body.y + label + 2 * painter.padding,
                        width: body.width - 2 * (tickWidth + painter.padding), height: body.height - 3 * label - 3 * painter.padding)
        guard plot.width > 20 * scale, plot.height > 20 * scale else { return }
        let idAxis = profile.intrinsicAxis, pcaAxis = profile.pcaAxis
        func px(_ depth: Double) -> Int { plot.x + Int((depth * Double(plot.width - 1)).rounded()) }
        func py(_ value: Double, _ axis: DepthProfile.Axis) -> Int {
            plot.maxY - 1 - Int((value / axis.maximum * Double(plot.height - 1)).rounded())
        }

        // Grid lines at the left axis's ticks; each axis labelled at its own round ticks.
        for tick in idAxis.ticks {
            let y = py(tick, idAxis)
            canvas.fill(Rect(x: plot.x, y: y, width: plot.width, height: 1), theme.barTrack)
            text.reset(); text.append(Float(tick), decimals: idAxis.step < 1 ? 1 : 0)
            canvas.draw(text.string, font: fonts.mono, in: Rect(x: body.x, y: y - label / 2, width: tickWidth, height: label),
                        color: theme.accent, alignment: .right)
        }
        for tick in pcaAxis.ticks {
            let y = py(tick, pcaAxis)
            canvas.fill(Rect(x: plot.maxX, y: y, width: 4 * scale, height: 1), theme.dimText)
            text.reset(); text.append(Float(tick), decimals: pcaAxis.step < 1 ? 1 : 0)
            canvas.draw(text.string, font: fonts.mono, in: Rect(x: plot.maxX + painter.padding, y: y - label / 2, width: tickWidth, height: label),
                        color: theme.dimText, alignment: .left)
        }
        for depth in stride(from: 0.0, through: 1.0, by: 0.2) {
            let x = px(depth)
            canvas.fill(Rect(x: x, y: plot.y, width: 1, height: plot.height), theme.barTrack.withAlpha(120))
            text.reset(); text.append(Float(depth), decimals: 1)
            canvas.draw(text.string, font: fonts.mono, in: Rect(x: x - tickWidth / 2, y: plot.maxY + 2, width: tickWidth, height: label),
                        color: theme.dimText, alignment: .center)
        }
        canvas.draw("relative depth", font: fonts.small, in: Rect(x: plot.x, y: plot.maxY + label + 2, width: plot.width, height: label),
                    color: theme.dimText, alignment: .center)

        // PCA-90 in the dim colour, on the right axis.
        var previous: (Int, Int)?
        for layer in profile.layers {
            let p = (px(layer.depth), py(Double(layer.pca90), pcaAxis))
            if let q = previous { canvas.line(from: q.0, q.1, to: p.0, p.1, theme.dimText, thickness: scale) }
            canvas.fill(Rect(x: p.0 - 2 * scale, y: p.1 - 2 * scale, width: 4 * scale + 1, height: 4 * scale + 1), theme.dimText)
            previous = p
        }
        // The intrinsic dimension in the accent colour, its spread as a vertical bar.
        previous = nil
        for layer in profile.layers {
            guard let id = layer.intrinsic else { previous = nil; continue }
            let p = (px(layer.depth), py(id, idAxis))
            if let s = layer.spread {
                canvas.line(from: p.0, py(max(id - s, 0), idAxis), to: p.0, py(id + s, idAxis), theme.accent, thickness: scale)
            }
            if let q = previous { canvas.line(from: q.0, q.1, to: p.0, p.1, theme.accent, thickness: 2 * scale) }
            canvas.fill(Rect(x: p.0 - 3 * scale, y: p.1 - 3 * scale, width: 6 * scale + 1, height: 6 * scale + 1), theme.accent)
            previous = p
        }
        canvas.draw("intrinsic dimension", font: fonts.small, in: Rect(x: plot.x, y: body.y + painter.padding / 2, width: plot.width / 2, height: label),
                    color: theme.accent)
        canvas.draw("PCA-90 components", font: fonts.small, in: Rect(x: plot.x + plot.width / 2, y: body.y + painter.padding / 2, width: plot.width / 2, height: label),
                    color: theme.dimText, alignment: .right)
    }
}
