// The outputs of a session, behind one protocol.

import Capture
import Support
import Visualization

/// A window frame just composed and presented: RGBA pixels, `canvas.width · 4` bytes a row.
public struct ComposedFrame {
    /// The canvas, valid only during the call: copy what you keep.
    public let canvas: Canvas
    /// `MonotonicClock` nanoseconds at which it was presented.
    public let time: UInt64

    public init(canvas: Canvas, time: UInt64) {
        self.canvas = canvas
        self.time = time
    }
}

/// An output of a session: the window, the MP4 recorder, PNG snapshots, the headless status lines.
///
/// A sink receives composed window frames (on the UI thread, right after each present) and/or each
/// frame's result (on the inference thread, after each forward pass). It must return at once —
/// copy what it needs and do slow work on a thread of its own, as the recorder does — so that no
/// sink ever holds up the frame loop. Every method has a default that does nothing, so a sink
/// implements only what it consumes. The session closes its sinks first when it stops, in the
/// order they were attached.
///
/// Outputs to come plug in the same way: a control socket's `snapshot` command is a sink that takes
/// the next composed frame (as `SnapshotSink` does for K) and its `status` reply reads the newest
/// result; a session recorder is a sink that appends each result (and, with a window, each
/// composed frame) to its log on its own thread; attach them with `Session.attach(_:)` before
/// `run`.
public protocol FrameSink: AnyObject {
    /// A composed window frame (UI thread).
    func receive(frame: ComposedFrame)
    /// One inferred frame's result: its top classes, frame number and times (inference thread).
    func receive(result: Classification)
    /// Finishes and releases what the sink holds; called once, by `Session.stop`.
    func close()
}

extension FrameSink {
    public func receive(frame: ComposedFrame) {}
    public func receive(result: Classification) {}
    public func close() {}
}

/// A sink that must run the main thread's loop (the window): the session hands it the main thread
/// until the user quits, a stop signal arrives or the frame limit is reached.
public protocol MainLoopSink: FrameSink {
    func runMainLoop()
}

/// The sinks of a session, fanned out to in attachment order.
public final class SinkHub: @unchecked Sendable {
    private let monitor = Monitor()
    private var sinks: [any FrameSink] = []
    /// Snapshots of `sinks` for the hot paths, rebuilt on attach (never while frames flow).
    private var frameSinks: [any FrameSink] = []

    public init() {}

    /// Adds a sink; call before the session runs.
    public func attach(_ sink: any FrameSink) {
        monitor.withLock {
            sinks.append(sink)
            frameSinks = sinks
        }
    }

    public var all: [any FrameSink] { monitor.withLock { sinks } }

    public func receive(frame: ComposedFrame) {
        for s in frameSinks { s.receive(frame: frame) }
    }

    public func receive(result: Classification) {
        for s in frameSinks { s.receive(result: result) }
    }

    /// Closes every sink once, in attachment order, and forgets them.
    public func closeAll() {
        let closing: [any FrameSink] = monitor.withLock {
            defer { sinks = []; frameSinks = [] }
            return sinks
        }
        for s in closing { s.close() }
    }
}
