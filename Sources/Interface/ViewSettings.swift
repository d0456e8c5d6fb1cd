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
