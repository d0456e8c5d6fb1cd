import Engine
import Visualization

/// How the user wants the window drawn; the UI thread owns it and keys and clicks change it.
public struct ViewSettings: Sendable, Equatable {
    /// The selected layer (index into the snapshot's layer names), unit and seed position.
    public var layer = 0
    public var unit = 0
    public var position: Selection.Position?
    /// nil: projections off.
    public var mode: ProjectionMode? = .guided
    public var filter: ProjectionFilter = .raw
    public var gamma: Float = 1
    public var boost: Float = 0
    public var colormap: Colormap.Kind = .gray
    /// Channel numbers (or class names) on the tiles.
    public var labels = true
    public var help = false
    /// The selected unit's map enlarged in place of the grid.
    public var zoom = false
    /// The grid shows the projection's gradient arriving at the selected layer (the toolbox's
    /// back-prop view) instead of the activations.
    public var gridShowsProjection = false
    /// A pinned projection origin (nil: the projection follows the selection).
    public var origin: Selection.Origin?
    /// The tile and layer under the mouse.
    public var hoverTile: Int?
    public var hoverLayer: Int?

    public init() {}

    /// The selection the inference thread needs.
    public var selection: Selection {
        var s = Selection(layer: layer, channel: unit, position: position, mode: mode, filter: filter)
        s.origin = origin
        s.gridGradient = gridShowsProjection
        return s
    }
}

/// Every key and mouse binding, as the help overlay lists them.
public enum Bindings {
    public static let help: [(key: String, action: String)] = [
        ("click tile", "select that unit"),
        ("click input / unit", "project from that position (again: whole map)"),
        ("click class", "select that class's unit"),
        ("click layer", "select that layer"),
        ("wheel", "previous / next layer"),
        ("← → ↑ ↓", "move the selected unit (shift: by 3)"),
        ("PgUp PgDn", "previous / next layer (Home, End)"),
        ("[ ]", "previous / next page of tiles"),
        ("P", "projection: guided, deconv, gradient, off"),
        ("F", "filter: raw, gray, norm, norm+blur"),
        ("O", "pin / release the projection origin"),
        ("E", "grid: activations / projection at this layer"),
        ("G / shift G", "gamma down / up"),
        ("B / shift B", "boost down / up"),
        ("C", "colormap: gray, viridis"),
        ("L", "labels on the tiles"),
        ("Z", "zoom the unit"),
        ("space", "freeze the frame"),
        ("S", "switch source"),
        ("N / shift N", "next / previous file"),
        ("X", "crop or stretch the input"),
        ("M", "mirror the input"),
        ("R", "record the window to MP4 on / off"),
        ("K", "snapshot to PNG"),
        ("F11", "fullscreen"),
        ("H or ?", "this help"),
        ("Q or Esc", "quit"),
    ]
}
