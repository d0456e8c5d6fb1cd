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
        let pic = InputPane(painter: painter).draw(c, c.bounds, snapshot: Fixture.snapshot()).picture
        #expect(pic.width == pic.height && pic.width > 150, "the input is drawn square and large: \(pic)")
        try Fixture.expectMatchesGolden(c, "input")
    }

    @Test func unitPane() throws {
        let c = canvas(220, 270)
        let pic = UnitPane(painter: painter).draw(c, c.bounds, snapshot: Fixture.snapshot(), colormap: .viridis).picture
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
        UnitPane(painter: painter).draw(c, c.bounds, snapshot: s, colormap: .gray)
        try Fixture.expectMatchesGolden(c, "unit-class")
    }

    @Test func projectionPaneFreshAndStale() throws {
        let s = Fixture.snapshot()
        let fresh = canvas(220, 250)
        ProjectionPane(painter: painter).draw(fresh, fresh.bounds, snapshot: s, mode: .guided, filter: .raw)
        try Fixture.expectMatchesGolden(fresh, "projection")
        s.channel = 5   // another unit: the picture is of the old one, shown dimmed
        let stale = canvas(220, 250)
        ProjectionPane(painter: painter).draw(stale, stale.bounds, snapshot: s, mode: .guided, filter: .raw)
        try Fixture.expectMatchesGolden(stale, "projection-stale")
        // Dimmed: a mid-gray (zero) pixel of the projection is much darker in the stale pane.
        let (x, y) = (110, painter.captionHeight + painter.padding + 20)
        #expect(fresh[x, y] == Color(128, 128, 128))
        #expect(Int(stale[x, y].r) < 80 && Int(stale[x, y].r) > Int(Theme.dark.background.r))
        let off = canvas(220, 250)
        ProjectionPane(painter: painter).draw(off, off.bounds, snapshot: s, mode: nil, filter: .raw)
        try Fixture.expectMatchesGolden(off, "projection-off")
    }

    @Test func topClasses() throws {
        let c = canvas(260, 230)
        var rows = TopClassesPane.Geometry()
        TopClassesPane(painter: painter).draw(c, c.bounds, snapshot: Fixture.snapshot(), into: &rows)
        #expect(rows.rowHeight > Fixture.fonts.body.lineHeight && rows.rows.height == 5 * rows.rowHeight)
        try Fixture.expectMatchesGolden(c, "top")
    }

    @Test func layerStripKeepsTheSelectionInView() throws {
        let c = canvas(220, 300)
        let names = (0..<95).map { "blk\($0 / 6)_layer_\($0)" }
        let strip = LayersPane(painter: painter).draw(c, c.bounds, names: names, selected: 60, hovered: 62)
        let visible = strip.rows.height / strip.rowHeight
        #expect(strip.first <= 60 && 60 < strip.first + visible)
        try Fixture.expectMatchesGolden(c, "layers")
    }

    @Test func statusLine() throws {
        let c = canvas(900, 26)
        StatusPane(painter: painter).draw(c, c.bounds, line: "image: chelsea.png  │  blk09_add:96  │  guided · raw  │  capture 30.0 fps", message: "H: help")
        try Fixture.expectMatchesGolden(c, "status")
    }

    @Test func helpOverlay() throws {
        let c = canvas(900, 600)
        HelpPane(painter: painter).draw(c, c.bounds, bindings: Bindings.help)
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

/// The live window's additions: the receptive field on the input, a pinned projection, the zoomed
/// unit in place of the grid.
@Suite("Live view golden images", .serialized)
struct LiveViewGoldenTests {
    @Test func inputPaneOutlinesTheReceptiveField() throws {
        let s = Fixture.snapshot()
        // A 6×6 map over a 48×48 input: units 8 pixels apart, each seeing 20×20.
        s.receptiveField = ReceptiveField(startY: 4, startX: 4, jumpY: 8, jumpX: 8, sizeY: 20, sizeX: 20)
        let c = Canvas(width: 220, height: 250)
        c.clear(Theme.dark.background)
        let pic = InputPane(painter: PanePainter(fonts: Fixture.fonts)).draw(c, c.bounds, snapshot: s).picture
        // Unit (2, 3) sees rows 10…30 and columns 18…38 of 48: its left edge is drawn in the accent colour.
        let k = Double(pic.width) / 48
        let x = pic.x + Int((18 * k).rounded()), y = pic.y + Int((20 * k).rounded())
        #expect(c[x, y] == Theme.dark.accent, "the receptive field's left edge at (\(x), \(y))")
        try Fixture.expectMatchesGolden(c, "input-receptive-field")
    }

    @Test func pinnedProjectionIsNotStaleAndSaysWhatItShows() throws {
        let s = Fixture.snapshot()
        s.projectionPinned = true
        s.projectionLayer = 3
        s.projectionChannel = 9
        #expect(!s.projectionIsStale, "pinned to another unit on purpose: not stale")
        let c = Canvas(width: 320, height: 250)
        c.clear(Theme.dark.background)
        ProjectionPane(painter: PanePainter(fonts: Fixture.fonts)).draw(c, c.bounds, snapshot: s, mode: .guided, filter: .raw)
        try Fixture.expectMatchesGolden(c, "projection-pinned")
    }

    @Test func zoomShowsTheUnitInPlaceOfTheGrid() throws {
        let composer = Composer(fonts: Fixture.fonts, width: 1024, height: 640)
        var view = ViewSettings()
        view.layer = 7
        view.unit = 4
        view.zoom = true
        composer.compose(Fixture.snapshot(), view: view)
        let g = composer.geometry
        #expect(g.grid.count == 0, "no tiles while zoomed")
        #expect(g.layout.grid.contains(x: g.unit.picture.x, y: g.unit.picture.y) && g.unit.picture.width > 300,
                "the unit's map fills the grid pane: \(g.unit.picture)")
        // A click on the zoomed map picks a position of the 6×6 map.
        #expect(g.hit(x: g.unit.picture.maxX - 1, y: g.unit.picture.y + 1) == .position(pane: .unit, y: 0, x: 5))
        try Fixture.expectMatchesGolden(composer.canvas, "window-zoomed")
    }
}
