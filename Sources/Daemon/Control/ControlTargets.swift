// The two owners of a selection that control requests act on: the window (on its UI thread)
// and, without one, the headless session (on the main thread).

import Foundation
import Interface
import Support
import Visualization

extension LiveApp: ControlTarget {
    public func updateSelection(_ change: (inout Controller) -> Void) {
        let before = controller
        change(&controller)
        if controller.request != before.request { visual.requests.send(controller.request) }
        logChanges(from: before)
        if let text = controller.changeLines(since: before).first { say(text) }
    }

    public func composedView() -> Result<(pixels: [UInt8], width: Int, height: Int), ControlRefusal> {
        guard visual.exchange.front.inputWidth > 0 else { return .failure(ControlRefusal("No frame has been shown yet; try again in a moment.")) }
        let c = composer.canvas
        return .success(([UInt8](UnsafeBufferPointer(start: c.pixels, count: c.width * c.height * 4)), c.width, c.height))
    }

    public var recordingPath: String? { recorder.path }

    public func beginRecording(_ path: String) -> String? {
        startRecording(path)
        return recorder.isRecording ? nil : (recorder.failure?.description ?? "The recording could not start.")
    }

    public func endRecording() -> (saved: Bool, message: String)? {
        guard recorder.isRecording else { return nil }
        stopRecording()
        if let failure = recorder.failure { return (false, failure.description) }
        return (true, "saved")
    }

    public func setRecordingsFolder(_ path: String) { options.snapshotDirectory = path }

    public func requestQuit() { quit = true }
}

/// Headless: the selection lives here, on the main thread, and a view is composed off-screen only
/// when a snapshot is asked for.
final class HeadlessTarget: ControlTarget {
    private(set) var controller: Controller
    private let visual: VisualStage
    private let log: @Sendable (String) -> Void
    private var composer: Composer?
    private var fontError: String?
    private(set) var quit = false

    init(controller: Controller, visual: VisualStage, log: @escaping @Sendable (String) -> Void) {
        self.controller = controller
        self.visual = visual
        self.log = log
    }

    func updateSelection(_ change: (inout Controller) -> Void) {
        let before = controller
        change(&controller)
        if controller.request != before.request { visual.requests.send(controller.request) }
        for line in controller.changeLines(since: before) { log(line) }
    }

    func composedView() -> Result<(pixels: [UInt8], width: Int, height: Int), ControlRefusal> {
        _ = visual.exchange.take()
        let front = visual.exchange.front
        guard front.inputWidth > 0 else { return .failure(ControlRefusal("No frame has been inferred yet; try again in a moment.")) }
        if composer == nil && fontError == nil {
            do { composer = Composer(fonts: try FontLoader.standard(scale: 1), width: 1280, height: 800) } catch {
                fontError = String(describing: error)
            }
        }
        guard let composer else { return .failure(ControlRefusal("The view cannot be drawn: \(fontError ?? "no fonts").")) }
        let c = composer.compose(front, view: controller.view)
        return .success(([UInt8](UnsafeBufferPointer(start: c.pixels, count: c.width * c.height * 4)), c.width, c.height))
    }

    var recordingPath: String? { nil }

    func beginRecording(_ path: String) -> String? {
        "Recording needs the window's view, and this daemon runs headless (run it with a display to record)."
    }

    func endRecording() -> (saved: Bool, message: String)? { nil }

    func setRecordingsFolder(_ path: String) {}

    func requestQuit() { quit = true }
}
