import Engine
import Imaging
import Interface
import Testing
import Visualization

/// Each pane drawn from the fixed synthetic snapshot, compared with its golden image.
@Suite("Pane golden images", .serialized)
struct PaneGoldenTests {
    let painter = PanePainter(fonts: Fixture.fonts)

    func canvas(_ w: Int, _ h: Int) -> Canvas {
        let c = Canvas(width: w, height: h)
        c.clear(Theme.dark.background)
        return c
    }

    @Test func inputPane() throws {
        let c = canvas(220, 250)
        let pic = painter.input(c, c.bounds, snapshot: Fixture.snapshot())
        #expect(pic.width == pic.height && pic.width > 150, "the input is drawn square and large: \(pic)")
        try Fixture.expectMatchesGolden(c, "input")
    }

    @Test func unitPane() throws {
        let c = canvas(220, 270)
        let pic = painter.unit(c, c.bounds, snapshot: Fixture.snapshot(), colormap: .viridis)
        #expect(!pic.isEmpty)
        // The selected channel's peak is drawn in the map's top colour somewhere in the picture.
        var sawTop = false
        for y in pic.y..<pic.maxY { for x in pic.x..<pic.maxX where c[x, y] == Colormap.viridis.color(1) { sawTop = true } }
        #expect(sawTop)
        try Fixture.expectMatchesGolden(c, "unit")
    }

    @Test func unitPaneOfAClassLayer() throws {
        let s = Fixture.snapshot(channels: 8, height: 1, width: 1, fullyConnected: true)
        s.channelLabels = Fixture.labels
        let c = canvas(220, 200)
        painter.unit(c, c.bounds, snapshot: s, colormap: .gray)
        try Fixture.expectMatchesGolden(c, "unit-class")
    }

    @Test func projectionPaneFreshAndStale() throws {
        let s = Fixture.snapshot()
        let fresh = canvas(220, 250)
        painter.projection(fresh, fresh.bounds, snapshot: s, mode: .guided, filter: .raw)
        try Fixture.expectMatchesGolden(fresh, "projection")
        s.channel = 5   // another unit: the picture is of the old one, shown dimmed
        let stale = canvas(220, 250)
        painter.projection(stale, stale.bounds, snapshot: s, mode: .guided, filter: .raw)
        try Fixture.expectMatchesGolden(stale, "projection-stale")
        // Dimmed: a mid-gray (zero) pixel of the projection is much darker in the stale pane.
        let (x, y) = (110, painter.captionHeight + painter.padding + 20)
        #expect(fresh[x, y] == Color(128, 128, 128))
        #expect(Int(stale[x, y].r) < 80 && Int(stale[x, y].r) > Int(Theme.dark.background.r))
        let off = canvas(220, 250)
        painter.projection(off, off.bounds, snapshot: s, mode: nil, filter: .raw)
        try Fixture.expectMatchesGolden(off, "projection-off")
    }

    @Test func topClasses() throws {
        let c = canvas(260, 230)
        let rows = painter.top(c, c.bounds, snapshot: Fixture.snapshot())
        #expect(rows.rowHeight > Fixture.fonts.body.lineHeight && rows.rows.height == 5 * rows.rowHeight)
        try Fixture.expectMatchesGolden(c, "top")
    }

    @Test func layerStripKeepsTheSelectionInView() throws {
        let c = canvas(220, 300)
        let names = (0..<95).map { "blk\($0 / 6)_layer_\($0)" }
        let strip = painter.layerStrip(c, c.bounds, names: names, selected: 60, hovered: 62)
        let visible = strip.rows.height / strip.rowHeight
        #expect(strip.first <= 60 && 60 < strip.first + visible)
        try Fixture.expectMatchesGolden(c, "layers")
    }

    @Test func statusLine() throws {
        let c = canvas(900, 26)
        painter.status(c, c.bounds, line: "image: chelsea.png  │  blk09_add:96  │  guided · raw  │  capture 30.0 fps", message: "H: help")
        try Fixture.expectMatchesGolden(c, "status")
    }

    @Test func helpOverlay() throws {
        let c = canvas(900, 600)
        painter.help(c, c.bounds, bindings: Bindings.help)
        try Fixture.expectMatchesGolden(c, "help")
    }

    @Test func wholeWindow() throws {
        let composer = Composer(fonts: Fixture.fonts, width: 1280, height: 800)
        var view = ViewSettings()
        view.layer = 7; view.unit = 4; view.hoverTile = 9
        composer.statusOverride = "fixture"
        try Fixture.expectMatchesGolden(composer.compose(Fixture.snapshot(), view: view), "window")
    }
}
