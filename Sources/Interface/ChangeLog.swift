/// The log lines that follow the window: one per change the user made, worded once here so that
/// scripts and the end-to-end test can read them ("Selected blk09_add:17 at 3,4.").
extension Controller {
    /// What changed since `before` (the controller as it was before one event), one line each.
    public func changeLines(since before: Controller) -> [String] {
        var lines: [String] = []
        let a = before.view, b = view
        if a.layer != b.layer || a.unit != b.unit || a.position != b.position {
            var line = "Selected \(layerNames[b.layer]):\(b.unit)"
            if let p = b.position { line += " at \(p.y),\(p.x)" }
            lines.append(line + ".")
        }
        if a.mode != b.mode || a.filter != b.filter {
            lines.append("Projection mode \(b.mode?.rawValue ?? "off"), filter \(b.filter.rawValue).")
        }
        if a.help != b.help { lines.append(b.help ? "Help shown." : "Help hidden.") }
        let r = before.request, s = request
        if r.frozen != s.frozen { lines.append(s.frozen ? "Frame frozen." : "Frame live.") }
        if r.feed != s.feed { lines.append("Switched to source \(s.feed + 1) of \(feedCount).") }
        if r.mirror != s.mirror || r.stretch != s.stretch {
            lines.append("Input \(s.stretch ? "stretched" : "cropped")\(s.mirror ? ", mirrored" : "").")
        }
        if a.colormap != b.colormap || a.gamma != b.gamma || a.boost != b.boost {
            lines.append("Grid colormap \(b.colormap.rawValue), gamma \(b.gamma), boost \(b.boost).")
        }
        if a.zoom != b.zoom { lines.append(b.zoom ? "Unit zoomed." : "Grid shown.") }
        if a.origin != b.origin { lines.append(b.origin == nil ? "Projection origin released." : "Projection origin pinned.") }
        return lines
    }

    /// The line that says which unit the projection pane shows, once the pipeline has computed it
    /// (a frame or two after the selection line).
    public static func projectionShownLine(layer: String, channel: Int, mode: String) -> String {
        "Projection pane shows \(layer):\(channel) (\(mode))."
    }
}
