import Engine
import Interface
import Testing
import Visualization

/// The window's behaviour without SDL: events in, view settings and pipeline requests out.
@Suite struct ControllerTests {
    /// 31 layers like the fixture's names: layer 7 has 12 channels of 6×6, the last is 1000 classes.
    static let shapes: [LayerShape] = (0..<31).map { i in
        if i == 30 { return LayerShape(channels: 1000, height: 1, width: 1, fullyConnected: true) }
        if i == 8 { return LayerShape(channels: 4, height: 3, width: 3, fullyConnected: false) }
        return LayerShape(channels: 12, height: 6, width: 6, fullyConnected: false)
    }
    static let names = (0..<30).map { "layer_\($0)" } + ["logits"]

    /// A controller on layer 7, unit 4, and the geometry of a 1280×800 window showing the fixture.
    static func make(feeds: Int = 1) -> (Controller, FrameGeometry) {
        var view = ViewSettings()
        view.layer = 7
        view.unit = 4
        let c = Controller(layers: shapes, layerNames: names, view: view, feedCount: feeds)
        let composer = Composer(fonts: Fixture.fonts, width: 1280, height: 800)
        composer.compose(Fixture.snapshot(), view: c.view)
        return (c, composer.geometry)
    }

    static func center(_ r: Rect) -> (Int, Int) { (r.x + r.width / 2, r.y + r.height / 2) }

    @Test func clickingATileSelectsThatUnitAndTheRequestFollows() {
        var (c, g) = Self.make()
        for unit in [0, 9, 11] {
            let (x, y) = Self.center(g.grid.rect(of: unit, page: 0))
            #expect(c.handle(.mouseDown(x: x, y: y, right: false), geometry: g) == nil)
            #expect(c.view.unit == unit)
            #expect(c.request.selection.channel == unit && c.request.selection.layer == 7)
        }
        // Hovering shows a tile without selecting it.
        let (hx, hy) = Self.center(g.grid.rect(of: 3, page: 0))
        _ = c.handle(.mouseMove(x: hx, y: hy), geometry: g)
        #expect(c.view.hoverTile == 3 && c.view.unit == 11)
        _ = c.handle(.mouseLeft, geometry: g)
        #expect(c.view.hoverTile == nil)
        g = FrameGeometry(layout: g.layout)
        _ = c.handle(.mouseDown(x: 1, y: 1, right: false), geometry: g)
        #expect(c.view.unit == 11, "a click on nothing changes nothing")
    }

    @Test func clickingTheInputSetsTheSeedPositionAndAgainClearsIt() {
        var (c, g) = Self.make()
        let pic = g.input.picture
        // The top-left cell of the 6×6 map, then the bottom-right one.
        _ = c.handle(.mouseDown(x: pic.x + 1, y: pic.y + 1, right: false), geometry: g)
        #expect(c.request.selection.position == Selection.Position(y: 0, x: 0))
        _ = c.handle(.mouseDown(x: pic.maxX - 1, y: pic.maxY - 1, right: false), geometry: g)
        #expect(c.request.selection.position == Selection.Position(y: 5, x: 5))
        _ = c.handle(.mouseDown(x: pic.maxX - 1, y: pic.maxY - 1, right: false), geometry: g)
        #expect(c.request.selection.position == nil, "the same cell again: the whole map")
        _ = c.handle(.mouseDown(x: pic.x + 1, y: pic.y + 1, right: false), geometry: g)
        _ = c.handle(.mouseDown(x: pic.x + 1, y: pic.y + 1, right: true), geometry: g)
        #expect(c.request.selection.position == nil, "a right click clears it")
    }

    @Test func theLayerStripTheWheelAndPageKeysChangeLayerAndKeepTheUnitValid() {
        var (c, g) = Self.make()
        let (x, _) = Self.center(g.layers.rows)
        let row8 = g.layers.rows.y + (8 - g.layers.first) * g.layers.rowHeight + g.layers.rowHeight / 2
        _ = c.handle(.mouseDown(x: x, y: row8, right: false), geometry: g)
        #expect(c.view.layer == 8)
        #expect(c.view.unit == 3, "unit 4 does not exist in a 4-channel layer: clamped to 3")
        _ = c.handle(.wheel(dy: 1), geometry: g)
        #expect(c.view.layer == 7)
        _ = c.handle(.wheel(dy: -1), geometry: g)
        _ = c.handle(.key(.pageDown, shift: false), geometry: g)
        #expect(c.view.layer == 9)
        _ = c.handle(.key(.end, shift: false), geometry: g)
        #expect(c.view.layer == 30 && c.request.selection.layer == 30)
        _ = c.handle(.key(.pageDown, shift: false), geometry: g)
        #expect(c.view.layer == 30, "no layer after the last")
        _ = c.handle(.key(.home, shift: false), geometry: g)
        _ = c.handle(.key(.pageUp, shift: false), geometry: g)
        #expect(c.view.layer == 0)
    }

    @Test func arrowsMoveTheUnitByOneOrByARowAndShiftMovesByThree() throws {
        var (c, g) = Self.make()
        let columns = g.grid.columns
        try #require(columns > 1)
        _ = c.handle(.key(.right, shift: false), geometry: g)
        #expect(c.view.unit == 5)
        _ = c.handle(.key(.right, shift: true), geometry: g)
        #expect(c.view.unit == 8)
        _ = c.handle(.key(.left, shift: false), geometry: g)
        #expect(c.view.unit == 7)
        _ = c.handle(.key(.up, shift: false), geometry: g)
        #expect(c.view.unit == ((7 - columns) % 12 + 12) % 12)
        _ = c.handle(.key(.down, shift: false), geometry: g)
        #expect(c.view.unit == 7)
        for _ in 0..<12 { _ = c.handle(.key(.right, shift: false), geometry: g) }
        #expect(c.view.unit == 7, "twelve steps around twelve units come back")
    }

    @Test func projectionModeFilterAndPinning() {
        var (c, g) = Self.make()
        #expect(c.view.mode == .guided)
        var modes: [ProjectionMode?] = []
        for _ in 0..<4 {
            _ = c.handle(.key(.character("p"), shift: false), geometry: g)
            modes.append(c.request.selection.mode)
        }
        #expect(modes == [.deconv, .gradient, nil, .guided])
        _ = c.handle(.key(.character("f"), shift: false), geometry: g)
        #expect(c.request.selection.filter == .gray)
        _ = c.handle(.key(.character("f"), shift: true), geometry: g)
        #expect(c.request.selection.filter == .raw)
        _ = c.handle(.key(.character("o"), shift: false), geometry: g)
        #expect(c.request.selection.origin == Selection.Origin(layer: 7, channel: 4, position: nil))
        _ = c.handle(.key(.pageDown, shift: false), geometry: g)
        _ = c.handle(.key(.right, shift: false), geometry: g)
        #expect(c.request.selection.origin == Selection.Origin(layer: 7, channel: 4, position: nil), "the pinned origin stays")
        _ = c.handle(.key(.character("o"), shift: false), geometry: g)
        #expect(c.request.selection.origin == nil)
        _ = c.handle(.key(.character("e"), shift: false), geometry: g)
        #expect(c.request.selection.gridGradient)
    }

    @Test func frameSourceAndInputRequests() {
        var (c, g) = Self.make(feeds: 2)
        _ = c.handle(.key(.space, shift: false), geometry: g)
        #expect(c.request.frozen)
        _ = c.handle(.key(.character("n"), shift: false), geometry: g)
        #expect(c.request.fileSteps == 1 && !c.request.frozen, "next file releases a frozen frame")
        _ = c.handle(.key(.character("n"), shift: true), geometry: g)
        _ = c.handle(.key(.character("n"), shift: true), geometry: g)
        #expect(c.request.fileSteps == -1)
        _ = c.handle(.key(.character("s"), shift: false), geometry: g)
        #expect(c.request.feed == 1)
        _ = c.handle(.key(.character("s"), shift: false), geometry: g)
        #expect(c.request.feed == 0)
        _ = c.handle(.key(.character("x"), shift: false), geometry: g)
        _ = c.handle(.key(.character("m"), shift: false), geometry: g)
        #expect(c.request.stretch && c.request.mirror)

        let made = Self.make(feeds: 1)
        var one = made.0
        let g1 = made.1
        if case .message(let m) = one.handle(.key(.character("s"), shift: false), geometry: g1) {
            #expect(m.contains("only one source"))
        } else {
            Issue.record("switching with one source says why it cannot")
        }
        #expect(one.request.feed == 0)
    }

    @Test func viewKeysGammaBoostColormapLabelsZoomHelpAndQuit() {
        var (c, g) = Self.make()
        _ = c.handle(.key(.character("g"), shift: true), geometry: g)
        #expect(c.view.gamma == 1.4)
        for _ in 0..<20 { _ = c.handle(.key(.character("g"), shift: false), geometry: g) }
        #expect(c.view.gamma == Controller.gammaSteps.first!, "gamma stops at its smallest step")
        _ = c.handle(.key(.character("b"), shift: true), geometry: g)
        #expect(c.view.boost == 0.25)
        _ = c.handle(.key(.character("c"), shift: false), geometry: g)
        #expect(c.view.colormap == .viridis)
        let labels = c.view.labels
        _ = c.handle(.key(.character("l"), shift: false), geometry: g)
        #expect(c.view.labels == !labels)
        _ = c.handle(.key(.character("z"), shift: false), geometry: g)
        #expect(c.view.zoom)
        _ = c.handle(.key(.character("/"), shift: true), geometry: g)
        #expect(c.view.help)
        #expect(c.handle(.key(.escape, shift: false), geometry: g) == nil, "Esc closes the help first")
        #expect(!c.view.help)
        #expect(c.handle(.key(.escape, shift: false), geometry: g) == .quit)
        #expect(c.handle(.key(.character("q"), shift: false), geometry: g) == .quit)
        #expect(c.handle(.key(.character("k"), shift: false), geometry: g) == .snapshot)
        #expect(c.handle(.key(.character("r"), shift: false), geometry: g) == .toggleRecording)
        #expect(c.handle(.key(.f11, shift: false), geometry: g) == .toggleFullscreen)
    }

    @Test func unknownKeysChangeNothing() {
        var (c, g) = Self.make()
        let view = c.view, request = c.request
        for ch in ["1", "9", "y", "u", "`", ";", "v"] {
            #expect(c.handle(.key(.character(Character(ch)), shift: false), geometry: g) == nil)
        }
        _ = c.handle(.key(.tab, shift: false), geometry: g)
        _ = c.handle(.key(.enter, shift: true), geometry: g)
        #expect(c.view == view && c.request == request)
    }

    @Test func clickingATopClassSelectsItsUnitInTheClassLayer() {
        var (c, g) = Self.make()
        let row = g.top.rows.y + g.top.rowHeight / 2
        _ = c.handle(.mouseDown(x: g.top.rows.x + 10, y: row, right: false), geometry: g)
        #expect(c.view.layer == 30 && c.view.unit == 281)
    }

    @Test func pagesOfALargeLayer() {
        let shapes = [LayerShape(channels: 1280, height: 7, width: 7, fullyConnected: false)]
        var c = Controller(layers: shapes, layerNames: ["head"], view: ViewSettings())
        // The first window size, shrinking, where 1280 tiles of at least 4 pixels need pages.
        var found: FrameGeometry?
        for (w, h) in [(420, 260), (320, 200), (260, 170), (200, 140)] {
            let composer = Composer(fonts: Fixture.fonts, width: w, height: h)
            composer.compose(Fixture.snapshot(channels: 1280, height: 7, width: 7), view: c.view)
            if composer.geometry.grid.pages > 1 { found = composer.geometry; break }
        }
        guard let g = found else {
            Issue.record("1280 channels never needed pages, even at 200×140")
            return
        }
        _ = c.handle(.key(.character("]"), shift: false), geometry: g)
        #expect(c.view.unit == g.grid.perPage)
        _ = c.handle(.key(.character("["), shift: false), geometry: g)
        #expect(c.view.unit == 0)
        _ = c.handle(.key(.character("["), shift: false), geometry: g)
        #expect(c.view.unit == (g.grid.pages - 1) * g.grid.perPage, "back from the first page: the last")
    }
}
