import Foundation
import Engine
import Imaging
import Testing
import TestSupport
@testable import Visualization

@Suite("Canvas")
struct CanvasTests {
    @Test func fillClipsToTheCanvasAndTheClipRect() {
        let c = Canvas(width: 10, height: 8)
        c.clear(Color(0, 0, 0))
        c.fill(Rect(x: -5, y: -5, width: 8, height: 8), Color(255, 0, 0))
        #expect(c[2, 2] == Color(255, 0, 0))
        #expect(c[3, 3] == Color(0, 0, 0))
        c.clipped(to: Rect(x: 5, y: 0, width: 2, height: 8)) {
            c.fill(c.bounds, Color(0, 255, 0))
        }
        #expect(c[5, 7] == Color(0, 255, 0) && c[6, 0] == Color(0, 255, 0))
        #expect(c[4, 7] == Color(0, 0, 0) && c[7, 0] == Color(0, 0, 0))
        #expect(c.clip == c.bounds, "the clip is restored")
    }

    @Test func translucentFillBlends() {
        let c = Canvas(width: 2, height: 2)
        c.clear(Color(0, 0, 200))
        c.fill(c.bounds, Color(255, 255, 255, 128))
        let p = c[1, 1]
        #expect(p.r == 128 && p.g == 128 && p.b == 228 && p.a == 255)
    }

    @Test func outlineLeavesTheInsideAlone() {
        let c = Canvas(width: 6, height: 6)
        c.clear(Color(0, 0, 0))
        c.outline(Rect(x: 1, y: 1, width: 4, height: 4), Color(9, 9, 9))
        #expect(c[1, 1] == Color(9, 9, 9) && c[4, 4] == Color(9, 9, 9) && c[1, 3] == Color(9, 9, 9))
        #expect(c[2, 2] == Color(0, 0, 0) && c[0, 0] == Color(0, 0, 0) && c[5, 5] == Color(0, 0, 0))
    }

    @Test func blitScalesNearestAndHonoursAlpha() {
        let c = Canvas(width: 4, height: 4)
        c.clear(Color(0, 0, 0))
        let rgb: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]   // 2×2
        rgb.withUnsafeBufferPointer { c.blit($0.baseAddress!, width: 2, height: 2, channels: 3, into: c.bounds) }
        #expect(c[0, 0] == Color(255, 0, 0) && c[1, 1] == Color(255, 0, 0))
        #expect(c[3, 0] == Color(0, 255, 0) && c[0, 3] == Color(0, 0, 255) && c[3, 3] == Color(255, 255, 255))
        let rgba: [UInt8] = [200, 200, 200, 0]
        rgba.withUnsafeBufferPointer { c.blit($0.baseAddress!, width: 1, height: 1, channels: 4, into: c.bounds) }
        #expect(c[0, 0] == Color(255, 0, 0), "a transparent source leaves the canvas")
        rgb.withUnsafeBufferPointer { c.blit($0.baseAddress!, width: 2, height: 2, channels: 3, into: c.bounds, alpha: 0) }
        #expect(c[3, 3] == Color(255, 255, 255))
    }

    @Test func resizeKeepsStorageWhenShrinking() {
        let c = Canvas(width: 100, height: 100)
        let before = c.pixels
        c.resize(width: 50, height: 60)
        #expect(c.pixels == before && c.width == 50 && c.height == 60 && c.clip == c.bounds)
        c.resize(width: 200, height: 200)
        #expect(c.width == 200)
        c.fill(c.bounds, Color(1, 2, 3))
        #expect(c[199, 199] == Color(1, 2, 3))
    }
}

@Suite("Colormaps")
struct ColormapTests {
    func luminance(_ c: Color) -> Double { 0.2126 * Double(c.r) + 0.7152 * Double(c.g) + 0.0722 * Double(c.b) }

    @Test func grayIsTheIdentity() {
        for i in [0, 1, 77, 128, 254, 255] {
            let c = Colormap.gray.color(Float(i) / 255)
            #expect(c.r == UInt8(i) && c.g == UInt8(i) && c.b == UInt8(i))
        }
    }

    @Test func viridisRunsFromPurpleToYellowWithRisingLuminance() {
        let v = Colormap.viridis
        #expect(v.color(0) == Color(0x44, 0x01, 0x54))
        #expect(v.color(1) == Color(0xFD, 0xE7, 0x25))
        #expect(v.color(0.5) == Color(0x21, 0x90, 0x8C))
        // Luminance rises along the whole map (up to the table's 8-bit rounding), and clearly so
        // over every eight entries.
        for i in 1..<256 {
            let l = luminance(v.color(Float(i) / 255)), previous = luminance(v.color(Float(i - 1) / 255))
            #expect(l > previous - 0.5, "luminance at \(i)")
            if i >= 8 { #expect(l > luminance(v.color(Float(i - 8) / 255)) + 1, "luminance over \(i - 8)…\(i)") }
        }
        #expect(v.color(.nan) == v.color(0) && v.color(7) == v.color(1) && v.color(-3) == v.color(0))
    }
}

@Suite("Tiling")
struct TilingTests {
    @Test func tilesAreNearSquareSeparatedByOnePixelAndInsideTheArea() {
        let area = Rect(x: 10, y: 20, width: 400, height: 300)
        for (n, h, w) in [(1, 7, 7), (3, 5, 5), (32, 112, 112), (112, 14, 14), (1280, 7, 7), (1000, 1, 1), (17, 3, 9)] {
            let g = TileGrid.fit(count: n, mapHeight: h, mapWidth: w, in: area)
            #expect(g.pages >= 1 && g.perPage * g.pages >= n)
            #expect(g.tileWidth >= 4 && g.tileHeight >= 4, "\(n) tiles of \(h)×\(w): \(g.tileWidth)×\(g.tileHeight)")
            #expect(abs(Double(g.tileWidth) / Double(g.tileHeight) - Double(w) / Double(h)) < 0.35 * Double(w) / Double(h) + 0.2)
            #expect(g.columns * g.rows >= g.perPage && g.columns * (g.rows - 1) < g.perPage, "no empty row")
            for page in 0..<g.pages {
                var previous: Rect?
                for i in g.range(page: page) {
                    let r = g.rect(of: i, page: page)
                    #expect(r.intersection(area) == r, "tile \(i) \(r) leaves \(area)")
                    if let p = previous, p.y == r.y { #expect(r.x == p.maxX + 1) }
                    previous = r
                    #expect(g.index(atX: r.x, y: r.y, page: page) == i)
                    #expect(g.index(atX: r.maxX - 1, y: r.maxY - 1, page: page) == i)
                    #expect(g.index(atX: r.maxX, y: r.y, page: page) != i)
                }
            }
        }
    }

    @Test func aLayerTooLargeToTileLegiblyIsPaged() {
        let g = TileGrid.fit(count: 1280, mapHeight: 7, mapWidth: 7, in: Rect(x: 0, y: 0, width: 120, height: 90))
        #expect(g.pages > 1)
        #expect(min(g.tileWidth, g.tileHeight) >= 4)
        #expect(g.range(page: 0).lowerBound == 0 && g.range(page: g.pages - 1).upperBound == 1280)
        #expect(g.page(of: 1279) == g.pages - 1 && g.page(of: 0) == 0)
        #expect(g.range(page: 99) == g.range(page: g.pages - 1), "a page past the end clamps")
    }

    @Test func emptyAndTinyAreasGiveAValidGrid() {
        let none = TileGrid.fit(count: 10, mapHeight: 3, mapWidth: 3, in: .zero)
        #expect(none.range(page: 0).isEmpty && none.index(atX: 0, y: 0, page: 0) == nil)
        let tiny = TileGrid.fit(count: 50, mapHeight: 3, mapWidth: 3, in: Rect(x: 0, y: 0, width: 2, height: 2))
        #expect(tiny.pages >= 1)
        #expect(tiny.index(atX: -1, y: 0, page: 0) == nil)
    }
}

@Suite("Activation grid")
struct ActivationGridTests {
    /// Two 2×2 channels: channel 0 spans 0…1, channel 1 spans 0…4.
    let values: [Float] = [0, 1, 0, 1,  0, 4, 0, 4]

    func render(_ style: GridStyle) -> (Canvas, TileGrid) {
        let canvas = Canvas(width: 21, height: 10)
        canvas.clear(Color(1, 2, 3))
        let grid = TileGrid.fit(count: 2, mapHeight: 2, mapWidth: 2, in: canvas.bounds)
        values.withUnsafeBufferPointer {
            ActivationGridRenderer().draw($0, channels: 2, height: 2, width: 2, grid: grid, page: 0, style: style, on: canvas)
        }
        return (canvas, grid)
    }

    @Test func minMaxOverTheWholeLayer() {
        let (c, g) = render(GridStyle())
        #expect(g.columns == 2 && g.rows == 1)
        let t0 = g.rect(of: 0, page: 0), t1 = g.rect(of: 1, page: 0)
        #expect(c[t1.maxX - 1, t1.y] == Color(255, 255, 255))     // 4: the layer's max
        #expect(c[t1.x, t1.y] == Color(0, 0, 0))                  // 0
        #expect(c[t0.maxX - 1, t0.y] == Color(64, 64, 64))        // 1 of 4
        #expect(c[t0.maxX, t0.y] == Color(1, 2, 3), "the gap is untouched")
    }

    @Test func boostOneBringsEveryChannelToItsPeak() {
        let (c, g) = render(GridStyle(boost: 1))
        let t0 = g.rect(of: 0, page: 0)
        #expect(c[t0.maxX - 1, t0.y] == Color(255, 255, 255))
    }

    @Test func gammaLiftsFaintValues() {
        let (c, g) = render(GridStyle(gamma: 0.5))
        let t0 = g.rect(of: 0, page: 0)
        #expect(c[t0.maxX - 1, t0.y] == Color(128, 128, 128))    // sqrt(0.25)
    }

    @Test func viridisColoursTheTiles() {
        let (c, g) = render(GridStyle(colormap: .viridis))
        let t1 = g.rect(of: 1, page: 0)
        #expect(c[t1.maxX - 1, t1.y] == Colormap.viridis.color(1) && c[t1.x, t1.y] == Colormap.viridis.color(0))
    }

    @Test func aThousandUnitLayerIsOneFlatTilePerUnit() {
        let canvas = Canvas(width: 400, height: 400)
        let values = (0..<1000).map { Float($0) }
        let grid = TileGrid.fit(count: 1000, mapHeight: 1, mapWidth: 1, in: canvas.bounds)
        #expect(grid.pages == 1)
        values.withUnsafeBufferPointer {
            ActivationGridRenderer().draw($0, channels: 1000, height: 1, width: 1, grid: grid, page: 0, style: GridStyle(), on: canvas)
        }
        let last = grid.rect(of: 999, page: 0), first = grid.rect(of: 0, page: 0)
        #expect(canvas[last.x, last.y] == Color(255, 255, 255) && canvas[last.maxX - 1, last.maxY - 1] == Color(255, 255, 255))
        #expect(canvas[first.x, first.y] == Color(0, 0, 0))
    }
}

@Suite("Projection renderer")
struct ProjectionRendererTests {
    @Test(arguments: ProjectionFilter.allCases)
    func matchesRenderProjection(filter: ProjectionFilter) {
        var rng = SplitMix64(seed: 41)
        let (h, w) = (13, 17)
        let g = uniformFloats(3 * h * w, in: -2...3, using: &rng)
        var out = [UInt8](repeating: 0, count: 3 * h * w)
        let renderer = ProjectionRenderer()
        for _ in 0..<2 {   // twice: the reused scratch gives the same picture
            g.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { renderer.render(src, height: h, width: w, filter: filter, into: $0) }
            }
        }
        let reference = g.withUnsafeBufferPointer { renderProjection($0, height: h, width: w, options: filter.rendering) }
        if filter == .gray {
            for i in 0..<(h * w) {
                let mean = (Int(reference.pixels[i * 3]) + Int(reference.pixels[i * 3 + 1]) + Int(reference.pixels[i * 3 + 2]) + 1) / 3
                #expect(out[i * 3] == UInt8(mean) && out[i * 3 + 1] == out[i * 3] && out[i * 3 + 2] == out[i * 3])
            }
        } else {
            #expect(out == reference.pixels)
        }
    }
}

@Suite("Snapshot builder")
struct SnapshotBuilderTests {
    /// x [1,3,8,8] → conv 3→4 3×3 pad 1 → relu → global average pool → flatten → dense 4→6.
    func network() throws -> Network {
        var rng = SplitMix64(seed: 7)
        let graph = try makeGraph(input: Shape([1, 3, 8, 8])) { g, x in
            let conv = Convolution(window: Window(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
                                   groups: 1, outChannels: 4, inChannelsPerGroup: 3,
                                   weight: uniformFloats(4 * 3 * 9, using: &rng), bias: uniformFloats(4, using: &rng))
            let c = try g.addNode(name: "conv", op: .conv(conv), inputs: [x])
            let r = try g.addNode(name: "relu", op: .relu, inputs: [c])
            let p = try g.addNode(name: "pool", op: .globalAveragePool, inputs: [r])
            let f = try g.addNode(name: "flat", op: .reshape(Shape([1, 4])), inputs: [p])
            return try g.addNode(name: "logits", op: .dense(Dense(inFeatures: 4, outFeatures: 6, weight: uniformFloats(24, using: &rng), bias: nil)), inputs: [f])
        }
        let net = Network(graph: graph, threads: 1)
        var r2 = SplitMix64(seed: 9)
        let x = uniformFloats(3 * 64, in: -1...1, using: &r2)
        for i in 0..<x.count { net.input[i] = x[i] }
        net.forward()
        return net
    }

    @Test func fillsInputLayerTopAndProjection() throws {
        let net = try network()
        let labels = ["a", "b", "c", "d", "e", "f"]
        let b = SnapshotBuilder(network: net, labels: labels,
                                encoding: InputEncoding(mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], pixelRange: 1, bgr: false))
        #expect(b.layerNames == ["conv", "relu", "pool", "flat", "logits"])
        #expect(b.defaultMode == .guided && !b.hasMaxPooling)
        let s = VisualSnapshot()
        let layer = try #require(b.layerIndex(named: "relu"))
        try b.fill(s, selection: Selection(layer: layer, channel: 2, position: .init(y: 3, x: 4), mode: .gradient, filter: .raw))
        #expect(s.inputWidth == 8 && s.inputHeight == 8 && s.input.count == 8 * 8 * 3)
        // Pixel = (x·0.5 + 0.5)·255 in channel order.
        #expect(s.input[(2 * 8 + 5) * 3 + 1] == UInt8(max(0, min(255, ((net.input[64 + 2 * 8 + 5] * 0.5 + 0.5) * 255).rounded()))))
        #expect(s.channels == 4 && s.height == 8 && s.width == 8 && !s.fullyConnected)
        #expect(Array(s.activations) == Array(net.buffer(net.graph.value(named: "relu")!)))
        #expect(s.channel == 2 && s.position?.y == 3 && s.position?.x == 4)
        // Top classes: softmax of the logits, in order, with their labels.
        let logits = Array(net.buffer(net.graph.value(named: "logits")!))
        let order = logits.indices.sorted { logits[$0] > logits[$1] }
        #expect(s.top.map(\.index) == Array(order.prefix(5)))
        #expect(s.top.map(\.label) == order.prefix(5).map { labels[$0] })
        let e = logits.map { expf($0 - logits.max()!) }
        #expect(abs(s.top[0].prob - e[order[0]] / e.reduce(0, +)) < 1e-5)
        #expect(s.hasProjection && !s.projectionIsStale && s.projectionWidth == 8)
        // The unit changes: the old projection is stale until the next fill.
        s.channel = 3
        #expect(s.projectionIsStale)
        // The class layer carries its labels; projections off forget the picture.
        try b.fill(s, selection: Selection(layer: b.layerIndex(named: "logits")!, channel: 5, mode: nil))
        #expect(s.fullyConnected && s.channelLabels == labels && !s.hasProjection)
    }

    @Test func aBadSelectionNamesTheRange() throws {
        let b = SnapshotBuilder(network: try network(), labels: nil,
                                encoding: InputEncoding(mean: [0, 0, 0], std: [1, 1, 1], pixelRange: 1, bgr: false))
        #expect(throws: ProjectionError.channelOutOfRange(layer: "conv", channel: 4, channels: 4)) {
            try b.fill(VisualSnapshot(), selection: Selection(layer: 0, channel: 4))
        }
        #expect(throws: ProjectionError.self) {
            try b.fill(VisualSnapshot(), selection: Selection(layer: 0, channel: 0, position: .init(y: 8, x: 0)))
        }
    }
}
