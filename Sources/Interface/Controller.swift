import Engine
import Visualization

/// A key, independent of SDL (the window translates SDL keycodes into these).
public enum Key: Sendable, Equatable {
    /// A letter, digit or punctuation key, lower case (`"?"` arrives as `"/"` with shift).
    case character(Character)
    case left, right, up, down, pageUp, pageDown, home, end
    case space, escape, enter, tab, f11
}

/// What the user did, as the controller sees it (window pixel coordinates).
public enum InputEvent: Sendable, Equatable {
    case key(Key, shift: Bool)
    case mouseMove(x: Int, y: Int)
    case mouseDown(x: Int, y: Int, right: Bool)
    case wheel(dy: Int)
    /// The pointer left the window.
    case mouseLeft
}

/// Something only the window's owner can do.
public enum Effect: Sendable, Equatable {
    case quit
    case toggleFullscreen
    /// Save the composed window as a PNG.
    case snapshot
    /// Start or stop recording.
    case toggleRecording
    /// A one-line message for the status line.
    case message(String)
}

/// Turns keys and clicks into view settings and pipeline requests: the window's whole behaviour,
/// without SDL, so tests drive it directly. Owned by the UI thread.
public struct Controller: Sendable {
    public private(set) var view: ViewSettings
    public private(set) var request: LiveRequest
    /// The selectable layers' shapes, by index (the selection is kept valid against them).
    public let layers: [LayerShape]
    public let layerNames: [String]
    /// How many sources the pipeline can switch between.
    public let feedCount: Int

    public static let gammaSteps: [Float] = [0.25, 0.35, 0.5, 0.7, 1, 1.4, 2, 2.8, 4]
    public static let boostSteps: [Float] = [0, 0.25, 0.5, 0.75, 1]

    public init(layers: [LayerShape], layerNames: [String], view: ViewSettings, feedCount: Int = 1,
                mirror: Bool = false) {
        precondition(!layers.isEmpty && layers.count == layerNames.count, "one shape per layer name")
        self.layers = layers
        self.layerNames = layerNames
        self.feedCount = max(1, feedCount)
        var v = view
        v.layer = max(0, min(layers.count - 1, v.layer))
        self.view = v
        request = LiveRequest(selection: v.selection)
        request.mirror = mirror
        clampSelection()
    }

    /// Applies one event. `geometry` is the last composed frame's (for hit testing and the grid's
    /// columns). Returns what only the window's owner can do, if anything.
    public mutating func handle(_ event: InputEvent, geometry: FrameGeometry) -> Effect? {
        switch event {
        case .mouseMove(let x, let y):
            switch geometry.hit(x: x, y: y) {
            case .tile(let i): view.hoverTile = i; view.hoverLayer = nil
            case .layer(let i): view.hoverLayer = i; view.hoverTile = nil
            default: view.hoverTile = nil; view.hoverLayer = nil
            }
            return nil
        case .mouseLeft:
            view.hoverTile = nil; view.hoverLayer = nil
            return nil
        case .mouseDown(let x, let y, let right):
            return click(geometry.hit(x: x, y: y), right: right)
        case .wheel(let dy):
            if dy != 0 { selectLayer(view.layer + (dy > 0 ? -1 : 1)) }   // `Action.layerByWheel`
            return nil
        case .key(let key, let shift):
            return press(key, shift: shift, columns: max(1, geometry.grid.columns), geometry: geometry)
        }
    }

    // MARK: - Mouse

    private mutating func click(_ hit: Hit, right: Bool) -> Effect? {
        switch hit {
        case .tile(let i):
            guard Bindings.action(forClick: .tile, right: right) == .selectTile else { return nil }
            selectUnit(i)
        case .position(_, let y, let x):
            switch Bindings.action(forClick: .position, right: right) {
            case .projectWholeMap?:
                view.position = nil
            case .projectFromPosition?:
                if view.position.map({ $0.y == y && $0.x == x }) ?? false {
                    view.position = nil   // a second click on the same cell: the whole map
                } else {
                    view.position = Selection.Position(y: y, x: x)
                }
            default: return nil
            }
            sync()
        case .layer(let i):
            guard Bindings.action(forClick: .layer, right: right) == .selectLayerAtPointer else { return nil }
            selectLayer(i)
        case .topClass(let c):
            guard Bindings.action(forClick: .topClass, right: right) == .selectClass else { return nil }
            // Select that class's unit in the output layer, when the output layer is a class layer.
            if let out = layers.lastIndex(where: { $0.fullyConnected && $0.channels > c }) {
                selectLayer(out)
                selectUnit(c)
            }
        case .pane, .none:
            break
        }
        return nil
    }

    // MARK: - Keys

    /// Does what `Bindings` binds the key to (unknown keys are ignored).
    private mutating func press(_ key: Key, shift: Bool, columns: Int, geometry: FrameGeometry) -> Effect? {
        guard let action = Bindings.action(for: key, shift: shift) else { return nil }
        return perform(action, columns: columns, geometry: geometry)
    }

    /// Carries out a key's action; returns what only the window's owner can do, if anything.
    private mutating func perform(_ action: Action, columns: Int, geometry: FrameGeometry) -> Effect? {
        switch action {
        case .moveUnit(let units, let rows): moveUnit(units + rows * columns)
        case .previousLayer: selectLayer(view.layer - 1)
        case .nextLayer: selectLayer(view.layer + 1)
        case .firstLayer: selectLayer(0)
        case .lastLayer: selectLayer(layers.count - 1)
        case .previousPage, .nextPage:
            let per = max(1, geometry.grid.perPage)
            let shown = layers[view.layer].channels
            let pages = (shown + per - 1) / per
            guard pages > 1 else { return .message("every unit fits on one page") }
            let page = (view.unit / per + (action == .nextPage ? 1 : pages - 1)) % pages
            selectUnit(min(shown - 1, page * per))
        case .nextMode, .previousMode:
            let order: [ProjectionMode?] = [.guided, .deconv, .gradient, nil]
            let i = order.firstIndex(of: view.mode) ?? 0
            view.mode = order[(i + (action == .previousMode ? order.count - 1 : 1)) % order.count]
            sync()
            return .message("projection: " + (view.mode?.rawValue ?? "off"))
        case .nextFilter, .previousFilter:
            let all = ProjectionFilter.allCases
            let i = all.firstIndex(of: view.filter) ?? 0
            view.filter = all[(i + (action == .previousFilter ? all.count - 1 : 1)) % all.count]
            sync()
            return .message("filter: " + view.filter.rawValue)
        case .togglePin:
            if view.origin == nil {
                view.origin = Selection.Origin(layer: view.layer, channel: view.unit, position: view.position)
                sync()
                return .message("projection pinned to \(layerNames[view.layer]):\(view.unit) (O releases it)")
            }
            view.origin = nil
            sync()
            return .message("projection follows the selection")
        case .toggleGridGradient:
            view.gridShowsProjection.toggle()
            sync()
            return .message(view.gridShowsProjection ? "grid: the projection's gradient at this layer" : "grid: activations")
        case .gammaDown, .gammaUp:
            view.gamma = Self.step(Self.gammaSteps, from: view.gamma, up: action == .gammaUp)
            return .message("gamma \(Self.format(view.gamma))")
        case .boostDown, .boostUp:
            view.boost = Self.step(Self.boostSteps, from: view.boost, up: action == .boostUp)
            return .message("boost \(Self.format(view.boost))")
        case .nextColormap:
            let all = Colormap.Kind.allCases
            view.colormap = all[((all.firstIndex(of: view.colormap) ?? 0) + 1) % all.count]
        case .toggleLabels: view.labels.toggle()
        case .toggleZoom: view.zoom.toggle()
        case .toggleFreeze:
            request.frozen.toggle()
            return .message(request.frozen ? "frame frozen (space releases it)" : "live")
        case .switchSource:
            guard feedCount > 1 else { return .message("only one source (give --source to add one)") }
            request.feed = (request.feed + 1) % feedCount
            return .message("switched source")
        case .nextFile, .previousFile:
            request.fileSteps += action == .previousFile ? -1 : 1
            if request.frozen { request.frozen = false }
        case .toggleStretch:
            request.stretch.toggle()
            return .message(request.stretch ? "input: whole frame stretched" : "input: centre crop")
        case .toggleMirror:
            request.mirror.toggle()
            return .message(request.mirror ? "mirrored" : "not mirrored")
        case .toggleRecording: return .toggleRecording
        case .snapshot: return .snapshot
        case .toggleFullscreen: return .toggleFullscreen
        case .toggleHelp: return toggleHelp()
        case .closeHelpOrQuit: return view.help ? toggleHelp() : .quit
        case .quit: return .quit
        case .selectTile, .projectFromPosition, .projectWholeMap, .selectLayerAtPointer, .selectClass, .layerByWheel:
            break   // the mouse's: see `handle` and `click`
        }
        return nil
    }

    private mutating func toggleHelp() -> Effect? {
        view.help.toggle()
        return nil
    }

    // MARK: - Selection

    /// Selects layer `i` (clamped), keeping the unit where it still exists.
    public mutating func selectLayer(_ i: Int) {
        let layer = max(0, min(layers.count - 1, i))
        guard layer != view.layer else { return }
        view.layer = layer
        view.hoverTile = nil
        clampSelection()
    }

    /// Sets the projection mode (nil: off), as P does (the control socket's `mode`).
    public mutating func setMode(_ mode: ProjectionMode?) {
        view.mode = mode
        sync()
    }

    /// Freezes or releases the frame, as space does (the control socket's `freeze`).
    public mutating func setFrozen(_ on: Bool) { request.frozen = on }

    /// Selects unit `i` of the current layer (clamped).
    public mutating func selectUnit(_ i: Int) {
        view.unit = max(0, min(layers[view.layer].channels - 1, i))
        sync()
    }

    private mutating func moveUnit(_ delta: Int) {
        let n = layers[view.layer].channels
        selectUnit(((view.unit + delta) % n + n) % n)
    }

    /// Keeps unit and position inside the selected layer, then hands the selection on.
    private mutating func clampSelection() {
        let shape = layers[view.layer]
        view.unit = max(0, min(shape.channels - 1, view.unit))
        if let p = view.position, shape.fullyConnected || p.y >= shape.height || p.x >= shape.width {
            view.position = nil
        }
        sync()
    }

    private mutating func sync() {
        request.selection = view.selection
    }

    private static func step(_ steps: [Float], from value: Float, up: Bool) -> Float {
        if up { return steps.first { $0 > value + 1e-4 } ?? steps.last! }
        return steps.last { $0 < value - 1e-4 } ?? steps.first!
    }

    private static func format(_ v: Float) -> String {
        let hundredths = Int((v * 100).rounded())
        let frac = hundredths % 100
        return "\(hundredths / 100)." + (frac < 10 ? "0" : "") + "\(frac)"
    }
}
