/// A near-square grid of equal tiles with 1-pixel gaps, fitted into a rectangle. When the tiles
/// would be smaller than `minimumTile` pixels, the grid is paged: each page holds `perPage` tiles.
public struct TileGrid: Sendable, Equatable {
    /// Where the grid is drawn (its tiles are centred in it).
    public var area: Rect
    public var count: Int
    public var columns: Int
    public var rows: Int
    /// A tile's size on screen, in pixels (the map scaled, aspect kept).
    public var tileWidth: Int
    public var tileHeight: Int
    public var gap: Int
    /// Tiles per page and the number of pages (1 when everything fits).
    public var perPage: Int
    public var pages: Int
    /// The top-left of the first tile.
    public var originX: Int
    public var originY: Int

    public static let empty = TileGrid(area: .zero, count: 0, columns: 0, rows: 0, tileWidth: 0, tileHeight: 0, gap: 1,
                                       perPage: 0, pages: 1, originX: 0, originY: 0)

    /// Fits `count` tiles of maps `mapHeight`×`mapWidth` into `area`.
    public static func fit(count: Int, mapHeight: Int, mapWidth: Int, in area: Rect, gap: Int = 1,
                           minimumTile: Int = 4) -> TileGrid {
        guard count > 0, mapHeight > 0, mapWidth > 0, !area.isEmpty else {
            var g = TileGrid.empty
            g.area = area
            return g
        }
        func best(for n: Int) -> (cols: Int, rows: Int, w: Int, h: Int) {
            var result = (cols: 1, rows: n, w: 0, h: 0)
            var bestScale = -1.0
            for cols in 1...n {
                let rows = (n + cols - 1) / cols
                let cellW = (area.width - (cols - 1) * gap) / cols
                let cellH = (area.height - (rows - 1) * gap) / rows
                guard cellW > 0, cellH > 0 else { continue }
                let scale = min(Double(cellW) / Double(mapWidth), Double(cellH) / Double(mapHeight))
                if scale > bestScale {
                    bestScale = scale
                    let w = max(1, min(cellW, Int(Double(mapWidth) * scale)))
                    let h = max(1, min(cellH, Int(Double(mapHeight) * scale)))
                    result = (cols, rows, w, h)
                }
            }
            return result
        }
        var perPage = count
        var b = best(for: perPage)
        // Page when tiles get too small to read: halve the page until they are large enough.
        while min(b.w, b.h) < minimumTile && perPage > 1 {
            perPage = (perPage + 1) / 2
            b = best(for: perPage)
        }
        if b.w == 0 || b.h == 0 {   // not even one tile fits: one clipped tile per page
            perPage = 1
            b = (1, 1, max(1, min(area.width, area.height)), max(1, min(area.width, area.height)))
        }
        let gridW = b.cols * b.w + (b.cols - 1) * gap
        let gridH = b.rows * b.h + (b.rows - 1) * gap
        return TileGrid(area: area, count: count, columns: b.cols, rows: b.rows, tileWidth: b.w, tileHeight: b.h, gap: gap,
                        perPage: perPage, pages: (count + perPage - 1) / perPage,
                        originX: area.x + max(0, (area.width - gridW) / 2), originY: area.y + max(0, (area.height - gridH) / 2))
    }

    /// The channels on `page` (clamped to the valid pages).
    public func range(page: Int) -> Range<Int> {
        guard count > 0 else { return 0..<0 }
        let p = max(0, min(pages - 1, page))
        return (p * perPage)..<min(count, (p + 1) * perPage)
    }

    /// The page that shows `index`.
    public func page(of index: Int) -> Int { perPage > 0 ? max(0, min(pages - 1, index / perPage)) : 0 }

    /// The screen rectangle of tile `index` (which must be on `page`).
    public func rect(of index: Int, page: Int) -> Rect {
        let i = index - range(page: page).lowerBound
        let col = i % max(1, columns), row = i / max(1, columns)
        return Rect(x: originX + col * (tileWidth + gap), y: originY + row * (tileHeight + gap), width: tileWidth, height: tileHeight)
    }

    /// The tile under point (x, y) on `page`, or nil (gaps and empty cells are no tile).
    public func index(atX x: Int, y: Int, page: Int) -> Int? {
        guard count > 0, columns > 0 else { return nil }
        let dx = x - originX, dy = y - originY
        guard dx >= 0, dy >= 0 else { return nil }
        let col = dx / (tileWidth + gap), row = dy / (tileHeight + gap)
        guard col < columns, row < rows, dx % (tileWidth + gap) < tileWidth, dy % (tileHeight + gap) < tileHeight else { return nil }
        let i = range(page: page).lowerBound + row * columns + col
        return range(page: page).contains(i) ? i : nil
    }
}
