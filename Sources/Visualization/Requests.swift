import Engine

// MARK: - What is selected

/// What the user selected, as the inference thread needs it.
public struct Selection: Sendable, Equatable {
    /// Index into `SnapshotBuilder.layers`.
    public var layer: Int
    public var channel: Int
    /// The projection's seed position in the layer's map (nil: the whole map).
    public var position: Position?
    /// nil: projections off.
    public var mode: ProjectionMode?
    public var filter: ProjectionFilter
    /// A pinned unit to project instead of the selected one (the toolbox's frozen projection
    /// origin: browse other layers and units while the projection stays on this one).
    public var origin: Origin?
    /// Fill the grid with the projection's gradient at the selected layer instead of its
    /// activations (where the backward pass reaches that layer).
    public var gridGradient = false

    public struct Position: Sendable, Equatable {
        public var y: Int, x: Int
        public init(y: Int, x: Int) { self.y = y; self.x = x }
    }

    /// A unit to project: layer index, channel and seed position.
    public struct Origin: Sendable, Equatable {
        public var layer: Int
        public var channel: Int
        public var position: Position?
        public init(layer: Int, channel: Int, position: Position? = nil) {
            self.layer = layer; self.channel = channel; self.position = position
        }
    }

    public init(layer: Int, channel: Int, position: Position? = nil, mode: ProjectionMode? = .guided, filter: ProjectionFilter = .raw) {
        self.layer = layer; self.channel = channel; self.position = position; self.mode = mode; self.filter = filter
    }
}

/// A selectable layer's shape, as the window needs it to keep a selection valid.
public struct LayerShape: Sendable, Equatable {
    public var channels: Int
    public var height: Int
    public var width: Int
    public var fullyConnected: Bool
    public init(channels: Int, height: Int, width: Int, fullyConnected: Bool) {
        self.channels = channels; self.height = height; self.width = width; self.fullyConnected = fullyConnected
    }
}

// MARK: - What the pipeline should do

/// What the pipeline should do, as the user asks for it (from the window today; the control socket
/// and a replayed session speak the same vocabulary). It sits below both the window and the
/// pipeline, so the inference side needs nothing from `Interface`.
///
/// The inference thread reads the newest one (latest wins, nothing queues); counters
/// (`fileSteps`) carry requests that must not be lost.
public struct LiveRequest: Sendable, Equatable {
    public var selection: Selection
    /// Keep the current frame (new frames are dropped; selection changes still recompute).
    public var frozen = false
    /// Swap left and right before the network sees the frame.
    public var mirror = false
    /// Squeeze the whole frame into the input instead of cropping its centre.
    public var stretch = false
    /// Which of the pipeline's sources feeds the network.
    public var feed = 0
    /// Every next/previous-file step asked for so far (+1 / −1 each); the pipeline applies the
    /// difference from what it has seen.
    public var fileSteps = 0

    public init(selection: Selection) { self.selection = selection }
}
