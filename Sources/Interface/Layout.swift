import Visualization

/// Where each pane goes in a window of a given size. Every rectangle lies inside the window, none
/// overlaps another, and none has a negative size — also for a window of a few pixels.
///
/// ```
/// ┌ input ──────┬ activation grid ─────────────────┬ layers ──┐
/// ├ projection ─┤                                  │          │
/// ├ unit ───────┤                                  ├ top-5 ───┤
/// └ status line ──────────────────────────────────────────────┘
/// ```
public struct Layout: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// Pixels per layout unit (2 on a HiDPI screen: everything twice as large).
    public var scale: Int
    public var input: Rect
    public var projection: Rect
    public var unit: Rect
    public var grid: Rect
    public var layers: Rect
    public var top: Rect
    public var status: Rect

    /// The panes in drawing order, with names (for tests and hit testing).
    public var panes: [(pane: Pane, rect: Rect)] {
        [(.input, input), (.projection, projection), (.unit, unit), (.grid, grid), (.layers, layers), (.top, top), (.status, status)]
    }

    public enum Pane: String, CaseIterable, Sendable { case input, projection, unit, grid, layers, top, status }

    /// - Parameters:
    ///   - statusHeight: the status line's height (a text line plus padding).
    ///   - captionHeight: a pane caption's height (the left panes are a caption plus a square).
    ///   - topHeight: the height the top-5 pane wants.
    public init(width: Int, height: Int, scale: Int = 1, statusHeight: Int = 24, captionHeight: Int = 26, topHeight: Int = 220) {
        let w = max(0, width), h = max(0, height), s = max(1, scale)
        self.width = w; self.height = h; self.scale = s
        let window = Rect(x: 0, y: 0, width: w, height: h)
        let (rest, status) = window.splitBottom(min(statusHeight, h / 4 + 1))
        self.status = status
        let gap = min(6 * s, rest.width / 60, rest.height / 60)
        let body = rest.inset(gap)
        // Left column: three panes, each a caption over a square picture.
        let paneHeight = max(0, (body.height - 2 * gap) / 3)
        let leftWidth = max(0, min(paneHeight - captionHeight, body.width * 3 / 10))
        let (left, afterLeft) = body.splitLeft(leftWidth)
        // Right column: the layer strip above the top classes.
        let rightWidth = min(max(170 * s, body.width / 5), max(0, (afterLeft.width - gap) * 2 / 5))
        let (middle, right) = afterLeft.splitRight(rightWidth)
        self.grid = middle.splitLeft(gap).rest.splitRight(gap).rest
        let top = min(topHeight, right.height * 3 / 5)
        let (strip, topPane) = right.splitBottom(top)
        self.layers = strip.splitBottom(gap).rest
        self.top = topPane
        let pane = (left.height - 2 * gap) / 3
        var y = left.y
        func take(_ hgt: Int) -> Rect {
            let r = Rect(x: left.x, y: y, width: left.width, height: max(0, hgt))
            y += max(0, hgt) + gap
            return r.intersection(left)
        }
        self.input = take(pane)
        self.projection = take(pane)
        self.unit = take(left.maxY - y)
    }
}

/// What is under a point of the window.
public enum Hit: Sendable, Equatable {
    case none
    /// A position of the selected layer's map, through the input or the unit pane.
    case position(pane: Layout.Pane, y: Int, x: Int)
    /// A tile of the activation grid (a channel of the selected layer).
    case tile(Int)
    /// A layer in the strip.
    case layer(Int)
    /// One of the top classes (its class index).
    case topClass(Int)
    /// Anywhere else in a pane.
    case pane(Layout.Pane)
}

/// The geometry of the last composed frame: what each pane drew where, for hit testing.
public struct FrameGeometry: Sendable, Equatable {
    public var layout: Layout
    /// The grid's tiles and the page shown (`GridPane`).
    public var grid: TileGrid = .empty
    public var page = 0
    /// The input and unit panes' pictures of the map (`InputPane`, `UnitPane`).
    public var input = MapPicture()
    public var unit = MapPicture()
    /// The layer strip's rows (`LayersPane`) and the top classes' rows (`TopClassesPane`).
    public var layers = LayersPane.Geometry()
    public var top = TopClassesPane.Geometry()

    public init(layout: Layout) { self.layout = layout }

    /// Back to a fresh frame's geometry, keeping the arrays' storage.
    public mutating func reset(layout: Layout) {
        self.layout = layout
        grid = .empty; page = 0
        input = MapPicture(); unit = MapPicture()
        layers = LayersPane.Geometry()
        top.reset()
    }

    /// What is at (x, y): each pane answers for its own rectangle, in drawing order of what lies
    /// on top (the zoomed unit is drawn where the grid is).
    public func hit(x: Int, y: Int) -> Hit {
        if let h = GridPane.hit(grid, page: page, x: x, y: y) { return h }
        if let p = input.position(x: x, y: y) { return .position(pane: .input, y: p.y, x: p.x) }
        if let p = unit.position(x: x, y: y) { return .position(pane: .unit, y: p.y, x: p.x) }
        if let h = layers.hit(x: x, y: y) { return h }
        if let h = top.hit(x: x, y: y) { return h }
        for (pane, rect) in layout.panes where rect.contains(x: x, y: y) { return .pane(pane) }
        return .none
    }
}
