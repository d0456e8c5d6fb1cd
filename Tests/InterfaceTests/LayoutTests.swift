import Engine
import Interface
import Testing
import Visualization

@Suite("Layout and hit testing")
struct LayoutTests {
    static let sizes: [(Int, Int)] = [(0, 0), (1, 1), (2, 3), (17, 9), (40, 30), (100, 60), (160, 120), (320, 240), (640, 480),
                                      (800, 600), (1024, 768), (1280, 800), (1920, 1080), (3840, 2160), (300, 1200), (1600, 200)]

    @Test(arguments: sizes)
    func panesStayInsideTheWindowAndApart(size: (Int, Int)) {
        for scale in [1, 2] {
            let l = Composer.layout(width: size.0, height: size.1, scale: scale, fonts: Fixture.fonts)
            let window = Rect(x: 0, y: 0, width: size.0, height: size.1)
            let panes = l.panes
            for (pane, r) in panes {
                #expect(r.width >= 0 && r.height >= 0, "\(pane) at \(size.0)×\(size.1): \(r)")
                #expect(r.isEmpty || r.intersection(window) == r, "\(pane) leaves the window at \(size.0)×\(size.1): \(r)")
            }
            for i in panes.indices {
                for j in panes.indices where j > i {
                    #expect(panes[i].rect.intersection(panes[j].rect).isEmpty,
                            "\(panes[i].pane) and \(panes[j].pane) overlap at \(size.0)×\(size.1)×\(scale)")
                }
            }
        }
    }

    @Test func aNormalWindowGivesEveryPaneRoom() {
        let l = Composer.layout(width: 1280, height: 800, scale: 1, fonts: Fixture.fonts)
        #expect(l.grid.width > 600 && l.grid.height > 600)
        #expect(l.input.width > 200 && l.projection.width > 200 && l.unit.width > 200)
        #expect(l.layers.height > 300 && l.top.height > 150)
        #expect(l.status.maxY == 800 && l.status.width == 1280)
        // HiDPI doubles the window and the sizes with it.
        let hi = Composer.layout(width: 2560, height: 1600, scale: 2, fonts: try! FontLoader.standard(scale: 2))
        #expect(abs(hi.grid.width - 2 * l.grid.width) < 40 && abs(hi.input.width - 2 * l.input.width) < 40)
    }

    @Test(arguments: [(1280, 800), (640, 400), (90, 70), (3, 2)])
    func composingAnySizeDoesNotCrash(size: (Int, Int)) {
        let composer = Composer(fonts: Fixture.fonts, width: size.0, height: size.1)
        var view = ViewSettings()
        view.help = true
        composer.compose(Fixture.snapshot(), view: view)
        #expect(composer.canvas.width == size.0)
    }

    @Test func hitTestingFindsTilesLayersPositionsAndClasses() {
        let composer = Composer(fonts: Fixture.fonts, width: 1280, height: 800)
        var view = ViewSettings()
        view.layer = 7; view.unit = 4
        let s = Fixture.snapshot()
        composer.compose(s, view: view)
        let g = composer.geometry
        for i in 0..<s.channels {
            let r = g.grid.rect(of: i, page: g.page)
            #expect(g.hit(x: r.x + r.width / 2, y: r.y + r.height / 2) == .tile(i))
        }
        let r0 = g.grid.rect(of: 0, page: 0)
        #expect(g.hit(x: r0.maxX, y: r0.y) != .tile(0) && g.hit(x: r0.maxX, y: r0.y) != .tile(1), "the gap is no tile")
        // The input picture maps onto the layer's 6×6 positions.
        let pic = g.input.picture
        #expect(g.hit(x: pic.x, y: pic.y) == .position(pane: .input, y: 0, x: 0))
        #expect(g.hit(x: pic.maxX - 1, y: pic.maxY - 1) == .position(pane: .input, y: 5, x: 5))
        #expect(g.hit(x: pic.x + pic.width / 2 + 1, y: pic.y + pic.height / 6 + 1) == .position(pane: .input, y: 1, x: 3))
        let u = g.unit.picture
        #expect(g.hit(x: u.x + 1, y: u.maxY - 1) == .position(pane: .unit, y: 5, x: 0))
        // Layer rows.
        for row in 0..<5 {
            let y = g.layers.rows.y + row * g.layers.rowHeight + g.layers.rowHeight / 2
            #expect(g.hit(x: g.layers.rows.x + 5, y: y) == .layer(g.layers.first + row))
        }
        #expect(g.hit(x: g.top.rows.x + 3, y: g.top.rows.y + g.top.rowHeight + 2) == .topClass(282))
        #expect(g.hit(x: 5, y: 795) == .pane(.status))
        #expect(g.hit(x: -5, y: 10) == .none)
    }

    @Test func aLayerOf1280ChannelsIsScaledOrPagedAndEveryChannelIsReachable() {
        let s = Fixture.snapshot(channels: 1280, height: 7, width: 7)
        for (w, h) in [(1280, 800), (640, 400), (320, 200)] {
            let composer = Composer(fonts: Fixture.fonts, width: w, height: h)
            var view = ViewSettings()
            var seen = Set<Int>()
            var pages = Set<Int>()
            for unit in stride(from: 0, to: 1280, by: 7) + [1279] {
                view.unit = unit
                s.channel = unit
                composer.compose(s, view: view)
                let g = composer.geometry
                #expect(min(g.grid.tileWidth, g.grid.tileHeight) >= 4, "tiles at \(w)×\(h)")
                #expect(g.grid.range(page: g.page).contains(unit), "unit \(unit) is on the page shown")
                let r = g.grid.rect(of: unit, page: g.page)
                #expect(g.hit(x: r.x, y: r.y) == .tile(unit))
                seen.insert(unit)
                pages.insert(g.page)
            }
            if w == 1280 { #expect(pages == [0], "1280 small maps fit on one page of a full window") }
            if w == 320 { #expect(pages.count > 1, "a small window pages them") }
        }
    }

    @Test func aThousandUnitClassLayerIsOneTilePerUnit() {
        let s = Fixture.snapshot(channels: 1000, height: 1, width: 1, fullyConnected: true)
        let composer = Composer(fonts: Fixture.fonts, width: 1280, height: 800)
        var view = ViewSettings()
        view.unit = 999
        s.channel = 999
        composer.compose(s, view: view)
        let g = composer.geometry
        #expect(g.grid.count == 1000 && g.grid.pages == 1)
        #expect(g.grid.tileWidth == g.grid.tileHeight && g.grid.tileWidth >= 10)
        let r = g.grid.rect(of: 999, page: 0)
        #expect(g.hit(x: r.x + 1, y: r.y + 1) == .tile(999))
        // The largest unit's tile is the brightest grey.
        #expect(composer.canvas[r.x + r.width / 2, r.y + r.height / 2] == Color(255, 255, 255))
    }
}
