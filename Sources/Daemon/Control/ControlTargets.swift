// The two owners of a selection that control requests act on: the window (on its UI thread)
// and, without one, the headless session (on the main thread).

import Foundation
import Interface
import Support
import Visualization

extension LiveApp: ControlTarget {
    public var canChangeSelection: Bool { true }

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
/// when a snapshot is asked for. While `run --headless --record` records the off-screen view
/// (`OffscreenView`), its composer and recorder are the ones used, and the selection stays the
/// one it was started with (the off-screen view composes with it).
final class HeadlessTarget: ControlTarget {
    private(set) var controller: Controller
    private let visual: VisualStage
    private let log: @Sendable (String) -> Void
    private var composer: Composer?
    private var fontError: String?
    private let offscreen: (composer: Composer, recorder: RecorderSink)?
    private(set) var quit = false

    init(controller: Controller, visual: VisualStage, log: @escaping @Sendable (String) -> Void,
         offscreen: (composer: Composer, recorder: RecorderSink)? = nil) {
        self.controller = controller
        self.visual = visual
        self.log = log
        self.offscreen = offscreen
    }

    var canChangeSelection: Bool { offscreen == nil }

    func updateSelection(_ change: (inout Controller) -> Void) {
        let before = controller
        change(&controller)
        if controller.request != before.request { visual.requests.send(controller.request) }
        for line in controller.changeLines(since: before) { log(line) }
    }

    func composedView() -> Result<(pixels: [UInt8], width: Int, height: Int), ControlRefusal> {
        if let offscreen {   // the frame the off-screen view composed last
            guard visual.exchange.front.inputWidth > 0 else { return .failure(ControlRefusal("No frame has been composed yet; try again in a moment.")) }
            let c = offscreen.composer.canvas
            return .success(([UInt8](UnsafeBufferPointer(start: c.pixels, count: c.width * c.height * 4)), c.width, c.height))
        }
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

    var recordingPath: String? { offscreen?.recorder.path }

    func beginRecording(_ path: String) -> String? {
        guard let offscreen else {
            return "This headless daemon composes no view to record; start it with --record FILE.mp4 (or with a display) to record."
        }
        offscreen.recorder.start(path: path, width: offscreen.composer.canvas.width, height: offscreen.composer.canvas.height)
        return offscreen.recorder.isRecording ? nil : (offscreen.recorder.failure?.description ?? "The recording could not start.")
    }

    func endRecording() -> (saved: Bool, message: String)? {
        guard let offscreen, offscreen.recorder.isRecording else { return nil }
        offscreen.recorder.stop()
        if let failure = offscreen.recorder.failure { return (false, failure.description) }
        return (true, "saved")
    }

    func setRecordingsFolder(_ path: String) {}

    func requestQuit() {
        quit = true
        if offscreen != nil { StopSignals.request() }   // the off-screen view's loop ends on a stop request
    }
}
