// The window's view without a window: each new snapshot composed off-screen by the same
// `Composer` and handed to the session's frame sinks (the MP4 recorder), so that a server with no
// display can record what the window would show.

import Interface
import Recording
import Support
import Visualization

/// Runs the main thread's loop of a headless session that records: every snapshot the inference
/// thread publishes is composed (latest wins: a snapshot replaced before the loop took it is
/// dropped, never queued) and sent to the sinks, until the frame limit, a stop signal or the end.
/// No SDL video driver is involved: the composer draws into memory, fonts come from SDL2_ttf.
public final class OffscreenView: MainLoopSink {
    public let pipeline: Pipeline
    public let composer: Composer
    public let view: ViewSettings
    private let visual: VisualStage
    private let sinks: SinkHub
    private let recorder: RecorderSink
    private let recordPath: String
    /// Frames composed and handed to the sinks.
    public private(set) var composed = 0
    /// Why recording could not start, if it could not (the loop then does not run).
    public var recordingError: RecordingError? { recorder.failure }

    /// - Parameters:
    ///   - sinks: where composed frames go; `recorder` must be attached to it.
    ///   - request: the selection the inference thread projects and fills snapshots for.
    public init(pipeline: Pipeline, composer: Composer, view: ViewSettings, request: LiveRequest,
                sinks: SinkHub, recorder: RecorderSink, recordPath: String) {
        precondition(pipeline.visual != nil, "the pipeline has no visual stage")
        self.pipeline = pipeline
        self.composer = composer
        self.view = view
        visual = pipeline.visual!
        self.sinks = sinks
        self.recorder = recorder
        self.recordPath = recordPath
        visual.requests.send(request)
    }

    public func runMainLoop() {
        recorder.start(path: recordPath, width: composer.canvas.width, height: composer.canvas.height)
        guard recorder.isRecording else { return }
        let exchange = visual.exchange
        var seen: UInt64 = 0
        while !StopSignals.requested && !pipeline.isFinished {
            seen = exchange.waitForPublish(after: seen, timeout: 100 * Nanoseconds.millisecond)
            composeNewest()
        }
        composeNewest()   // the frame that reached the limit
        recorder.stop()
    }

    private func composeNewest() {
        guard visual.exchange.take() != nil else { return }
        let front = visual.exchange.front
        guard front.inputWidth > 0 else { return }
        composer.compose(front, view: view)
        composed += 1
        sinks.receive(frame: ComposedFrame(canvas: composer.canvas, time: MonotonicClock.now()))
    }
}

extension OffscreenView {
    /// The off-screen view of a headless `session` that records to `path`: the window's size
    /// (or `offscreenSize`), the session's recorder attached, status lines as headless sessions
    /// print them.
    convenience init(session: Session, controller: Controller, recorder: RecorderSink, path: String) throws(SessionError) {
        let c = session.configuration
        var size = c.offscreenSize
        if case .window(let width, let height) = c.output { size = (width, height) }
        let fonts: Fonts
        do { fonts = try FontLoader.standard(scale: 1) } catch {
            session.stop()
            throw SessionError(String(describing: error), badInput: false)
        }
        session.attach(recorder)
        if c.output != .headless || c.headlessStatus {
            let model = session.model
            session.attach(StatusSink(sourceNames: session.pipeline.feeds.map(\.name), label: { model.label($0) }, write: c.log))
        }
        self.init(pipeline: session.pipeline, composer: Composer(fonts: fonts, width: size.width, height: size.height),
                  view: controller.view, request: controller.request, sinks: session.sinks, recorder: recorder, recordPath: path)
    }
}
