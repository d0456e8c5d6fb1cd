/// What the user can ask of the window: every action a key or the mouse is bound to.
public enum Action: Sendable, Equatable {
    // MARK: Mouse
    /// Select the tile under the pointer (hovering shows its index and value).
    case selectTile
    /// Project from the position under the pointer (the same cell again: the whole map).
    case projectFromPosition
    /// Project the whole map (a right click on a position).
    case projectWholeMap
    /// Select the layer under the pointer.
    case selectLayerAtPointer
    /// Select the unit of the class under the pointer in the output layer.
    case selectClass
    /// The wheel: previous / next layer.
    case layerByWheel

    // MARK: Selection
    /// Move the selected unit by `units` tiles, or by `rows` rows of the grid.
    case moveUnit(units: Int, rows: Int)
    case previousLayer, nextLayer, firstLayer, lastLayer
    case previousPage, nextPage

    // MARK: Projection
    case nextMode, previousMode, nextFilter, previousFilter
    case togglePin, toggleGridGradient

    // MARK: Grid
    case gammaDown, gammaUp, boostDown, boostUp
    case nextColormap, toggleLabels, toggleZoom

    // MARK: Frames and sources
    case toggleFreeze, switchSource, nextFile, previousFile, toggleStretch, toggleMirror

    // MARK: The window
    case toggleRecording, snapshot, toggleFullscreen, toggleHelp
    /// Esc: closes the help when it is open, else quits.
    case closeHelpOrQuit
    case quit
}

/// What sets a binding off.
public enum Trigger: Sendable, Equatable {
    /// A key; `shift` nil: with or without shift.
    case key(Key, shift: Bool?)
    /// A left click on a kind of place.
    case click(Target)
    /// A right click on a kind of place.
    case rightClick(Target)
    /// The mouse wheel.
    case wheel

    /// The kinds of place a click can land on.
    public enum Target: Sendable, Equatable { case tile, position, layer, topClass }

    /// Whether a key press matches this trigger.
    func matches(_ key: Key, shift: Bool) -> Bool {
        guard case .key(let k, let s) = self else { return false }
        return k == key && (s == nil || s == shift)
    }
}

/// One binding: what sets it off, what it does, and the help overlay's row it is listed under
/// (bindings that share a row, such as the four arrows, share its `label` and `help`).
public struct Binding: Sendable {
    public var trigger: Trigger
    public var action: Action
    /// The keys as the help overlay writes them ("G / shift G").
    public var label: String
    /// What the row says it does.
    public var help: String
    /// The name of this binding's own key or click, as README's key table writes it (e.g.
    /// "shift G", "PgUp", "click tile").
    public var name: String

    public init(_ trigger: Trigger, _ action: Action, name: String, label: String, help: String) {
        self.trigger = trigger; self.action = action; self.name = name; self.label = label; self.help = help
    }
}

/// Every key and mouse binding of the window, in the help overlay's order: the one table that the
/// `Controller` dispatches keys from, the help overlay lists and README's key table is checked
/// against. To add a key: add its row here and its `Action` case, handle the action in
/// `Controller.perform`, and document it in README's "## The window".
public enum Bindings {
    public static let all: [Binding] = {
        var t: [Binding] = []
        func row(_ label: String, _ help: String, _ entries: [(Trigger, Action, String)]) {
            for (trigger, action, name) in entries { t.append(Binding(trigger, action, name: name, label: label, help: help)) }
        }
        func key(_ k: Key, shift: Bool? = nil) -> Trigger { .key(k, shift: shift) }
        func char(_ c: Character, shift: Bool? = nil) -> Trigger { .key(.character(c), shift: shift) }

        row("click tile", "select that unit", [(.click(.tile), .selectTile, "click tile")])
        row("click input / unit", "project from that position (again: whole map)",
            [(.click(.position), .projectFromPosition, "click input / unit"), (.rightClick(.position), .projectWholeMap, "right click")])
        row("click class", "select that class's unit", [(.click(.topClass), .selectClass, "click class")])
        row("click layer", "select that layer", [(.click(.layer), .selectLayerAtPointer, "click layer")])
        row("wheel", "previous / next layer", [(.wheel, .layerByWheel, "wheel")])
        row("← → ↑ ↓", "move the selected unit (shift: by 3)", [
            (key(.left, shift: false), .moveUnit(units: -1, rows: 0), "←"), (key(.left, shift: true), .moveUnit(units: -3, rows: 0), "shift ←"),
            (key(.right, shift: false), .moveUnit(units: 1, rows: 0), "→"), (key(.right, shift: true), .moveUnit(units: 3, rows: 0), "shift →"),
            (key(.up, shift: false), .moveUnit(units: 0, rows: -1), "↑"), (key(.up, shift: true), .moveUnit(units: 0, rows: -3), "shift ↑"),
            (key(.down, shift: false), .moveUnit(units: 0, rows: 1), "↓"), (key(.down, shift: true), .moveUnit(units: 0, rows: 3), "shift ↓"),
        ])
        row("PgUp PgDn", "previous / next layer (Home, End)", [
            (key(.pageUp), .previousLayer, "PgUp"), (key(.pageDown), .nextLayer, "PgDn"),
            (key(.home), .firstLayer, "Home"), (key(.end), .lastLayer, "End"),
        ])
        row("[ ]", "previous / next page of tiles", [(char("["), .previousPage, "["), (char("]"), .nextPage, "]")])
        row("P", "projection: guided, deconv, gradient, off",
            [(char("p", shift: false), .nextMode, "P"), (char("p", shift: true), .previousMode, "shift P")])
        row("F", "filter: raw, gray, norm, norm+blur",
            [(char("f", shift: false), .nextFilter, "F"), (char("f", shift: true), .previousFilter, "shift F")])
        row("O", "pin / release the projection origin", [(char("o"), .togglePin, "O")])
        row("E", "grid: activations / projection at this layer", [(char("e"), .toggleGridGradient, "E")])
        row("G / shift G", "gamma down / up", [(char("g", shift: false), .gammaDown, "G"), (char("g", shift: true), .gammaUp, "shift G")])
        row("B / shift B", "boost down / up", [(char("b", shift: false), .boostDown, "B"), (char("b", shift: true), .boostUp, "shift B")])
        row("C", "colormap: gray, viridis", [(char("c"), .nextColormap, "C")])
        row("L", "labels on the tiles", [(char("l"), .toggleLabels, "L")])
        row("Z", "zoom the unit", [(char("z"), .toggleZoom, "Z")])
        row("space", "freeze the frame", [(key(.space), .toggleFreeze, "space")])
        row("S", "switch source", [(char("s"), .switchSource, "S")])
        row("N / shift N", "next / previous file", [(char("n", shift: false), .nextFile, "N"), (char("n", shift: true), .previousFile, "shift N")])
        row("X", "crop or stretch the input", [(char("x"), .toggleStretch, "X")])
        row("M", "mirror the input", [(char("m"), .toggleMirror, "M")])
        row("R", "record the window to MP4 on / off", [(char("r"), .toggleRecording, "R")])
        row("K", "snapshot to PNG", [(char("k"), .snapshot, "K")])
        row("F11", "fullscreen", [(key(.f11), .toggleFullscreen, "F11")])
        row("H or ?", "this help", [(char("h"), .toggleHelp, "H"), (char("/", shift: true), .toggleHelp, "?")])
        row("Q or Esc", "quit", [(char("q"), .quit, "Q"), (key(.escape), .closeHelpOrQuit, "Esc")])
        return t
    }()

    /// The action bound to a key press, if any (unknown keys: nil, and are ignored).
    public static func action(for key: Key, shift: Bool) -> Action? {
        all.first { $0.trigger.matches(key, shift: shift) }?.action
    }

    /// The action bound to a click on `target` (a right click where nothing is bound to it acts
    /// as a left click).
    public static func action(forClick target: Trigger.Target, right: Bool) -> Action? {
        if right, let b = all.first(where: { $0.trigger == .rightClick(target) }) { return b.action }
        return all.first { $0.trigger == .click(target) }?.action
    }

    /// The help overlay's rows: each label once, in table order, with what it does.
    public static let help: [(key: String, action: String)] = {
        var rows: [(key: String, action: String)] = []
        for b in all where !rows.contains(where: { $0.key == b.label }) { rows.append((b.label, b.help)) }
        return rows
    }()
}
