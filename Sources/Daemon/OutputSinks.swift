// The sinks that write files: the MP4 recorder and PNG snapshots of the window.

import Capture
import Foundation
import Imaging
import Recording
import Support
import Visualization

/// Records composed view frames to an MP4 file (H.264 in fragmented MP4 through `VideoRecorder`,
/// which encodes on a thread of its own and takes the newest frame): `--record` starts it with the
/// window (or the off-screen view when headless), R starts and stops it. The file plays whenever
/// the recording stops; when writing fails (a full disk, the folder removed) the recording stops
/// with one log line and the view goes on.
public final class RecorderSink: FrameSink, @unchecked Sendable {
    private var recorder: VideoRecorder?
    /// Why the last recording could not start, if it could not.
    public private(set) var failure: RecordingError?
    /// The summary of the last recording that ended.
    public private(set) var lastSummary: RecordingSummary?
    /// One line for the log.
    private let log: (String) -> Void
    private let monitor = Monitor()
    private var messages: [String] = []

    public init(log: @escaping (String) -> Void = { _ in }) { self.log = log }

    public var isRecording: Bool { recorder != nil }
    /// The size being recorded, while recording.
    public var size: (width: Int, height: Int)? { recorder.map { ($0.width, $0.height) } }

    /// Starts recording frames of `width`×`height` into `path`; returns the message for the window.
    @discardableResult
    public func start(path: String, width: Int, height: Int) -> String {
        Self.reportLeftovers(near: path, log: log)
        do {
            recorder = try VideoRecorder(path: path, width: width, height: height)
            failure = nil
            log("Recording to \(path).")
            return "recording to \(path) (R stops)"
        } catch {
            failure = error
            log(error.description)
            return "not recording: \(error.description)"
        }
    }

    /// Finishes the recording, if one runs; returns the message for the window.
    @discardableResult
    public func stop() -> String? {
        guard let r = recorder else { return nil }
        recorder = nil
        do {
            let s = try r.finish()
            lastSummary = s
            let counts = "\(s.frames) frames, \(String(format: "%.1f", s.seconds)) s (\(s.dropped) dropped by the encoder; encoder \(String(format: "%.2f", s.encoderCPUPerFrameMs)) ms CPU per frame)"
            if let why = s.stoppedEarly {
                let kept = "\(s.frames) frames, \(String(format: "%.1f", s.seconds)) s (of \(s.frames + s.dropped) submitted)"
                log("Recording to \(r.path) stopped: \(why); the file keeps \(kept) and plays.")
                return "recording stopped: \(why)"
            }
            log("Recording saved to \(r.path): \(counts).")
            return "saved \(r.path)"
        } catch {
            log(error.description)
            return error.description
        }
    }

    /// Messages about recordings that stopped on their own since the last call.
    public func takeMessages() -> [String] {
        monitor.withLock {
            defer { messages.removeAll() }
            return messages
        }
    }

    public func receive(frame: ComposedFrame) {
        guard let recorder else { return }
        if recorder.stoppedEarly != nil {
            // Writing failed: finish now (one message), and the view goes on without recording.
            if let message = stop() { monitor.withLock { messages.append(message) } }
            return
        }
        recorder.submit(frame.canvas.pixels, rowBytes: frame.canvas.width * 4, time: frame.time)
    }

    public func close() { stop() }

    /// Says so, once per folder, when recorders before fragmented MP4 left hidden partial files
    /// (`.NAME.<pid>.tmp.mp4`) beside `path`: they never play, and nothing deletes them silently.
    static func reportLeftovers(near path: String, log: (String) -> Void) {
        let directory = (path as NSString).deletingLastPathComponent
        let folder = directory.isEmpty ? "." : directory
        let found = VideoRecorder.leftovers(in: folder)
        guard !found.isEmpty, reported.withLock({ $0.insert(folder).inserted }) else { return }
        let mb = Double(found.reduce(0) { $0 + $1.bytes }) / 1e6
        let names = found.prefix(3).map(\.name).joined(separator: ", ") + (found.count > 3 ? ", …" : "")
        log("\(found.count) unfinished recording(s) from earlier runs in \(folder) cannot be played and were left as they are (\(names); \(String(format: "%.1f", mb)) MB): delete them.")
    }

    private static let reported = Locked<Set<String>>([])
}

/// A value behind a lock.
final class Locked<Value>: @unchecked Sendable {
    private let monitor = Monitor()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) -> R) -> R { monitor.withLock { body(&value) } }
}

/// Saves the next composed window frame as a PNG (K): `request(path:)` arms it; the next frame is
/// copied (on the UI thread, once per request) and written on a thread of its own, so the window
/// never waits for the encoder. `takeMessage` hands the window its "saved …" line afterwards.
public final class SnapshotSink: FrameSink, @unchecked Sendable {
    private var pending: String?
    private let log: @Sendable (String) -> Void
    private let monitor = Monitor()
    private var finished: [String] = []
    private var failures: [String] = []
    private var writing = 0
    /// The writers started (UI thread only), joined by `close`.
    private var writers: [WorkerThread] = []

    public init(log: @escaping @Sendable (String) -> Void = { _ in }) { self.log = log }

    /// Saves the next frame into `path`.
    public func request(path: String) { pending = path }

    /// The messages of snapshots finished since the last call ("saved PATH", or why not).
    public func takeMessages() -> [String] {
        monitor.withLock {
            defer { finished.removeAll() }
            return finished
        }
    }

    /// Why snapshots could not be written (one sentence each, naming the file), oldest first.
    public var writeFailures: [String] { monitor.withLock { failures } }

    /// Waits up to `timeout` nanoseconds for the snapshots being written; true when none is left.
    public func waitUntilWritten(timeout: UInt64) -> Bool {
        let deadline = MonotonicClock.now() &+ timeout
        monitor.lock()
        defer { monitor.unlock() }
        while writing > 0 {
            if !monitor.wait(until: deadline) { break }
        }
        return writing == 0
    }

    public func receive(frame: ComposedFrame) {
        guard let path = pending else { return }
        pending = nil
        let (width, height) = (frame.canvas.width, frame.canvas.height)
        let pixels = [UInt8](UnsafeBufferPointer(start: frame.canvas.pixels, count: width * height * 4))
        monitor.withLock { writing += 1 }
        let log = self.log
        writers.append(WorkerThread(name: "ds-snapshot") { [self] in
            let message: String
            do {
                try pixels.withUnsafeBufferPointer { (p) throws(ImageError) in
                    try writePNG(pixels: p.baseAddress!, width: width, height: height, channels: 4, to: path)
                }
                message = "saved \(path)"
                log("Snapshot saved to \(path).")
            } catch {
                message = "snapshot not saved: \(error)"
                log("The snapshot could not be saved: \(error)")
                monitor.withLock { failures.append(String(describing: error)) }
            }
            monitor.withLock {
                finished.append(message)
                writing -= 1
            }
            monitor.broadcast()
        })
    }

    /// Waits for the snapshots still being written and ends their threads.
    public func close() {
        for w in writers { w.join() }
        writers.removeAll()
    }
}

/// Headless: what the network sees, on stderr about once a second — the source, the top-3
/// classes and the inference rate — so that a run without a window shows it works.
public final class StatusSink: FrameSink, @unchecked Sendable {
    private let names: [String]
    private let label: @Sendable (Int) -> String
    private let write: @Sendable (String) -> Void
    private let interval: UInt64
    private var start: UInt64 = 0
    private var next: UInt64 = 0
    private var lastTime: UInt64 = 0
    private var frames: UInt64 = 0

    /// - Parameters:
    ///   - sourceNames: the feeds' names, by feed index.
    ///   - label: a class index's name.
    ///   - interval: nanoseconds between lines.
    ///   - write: where a line goes (stderr).
    public init(sourceNames: [String], label: @escaping @Sendable (Int) -> String,
                interval: UInt64 = Nanoseconds.second, write: @escaping @Sendable (String) -> Void) {
        names = sourceNames
        self.label = label
        self.interval = interval
        self.write = write
    }

    public func receive(result: Classification) {
        frames += 1
        let now = result.resultTime
        if start == 0 { start = now; next = now + interval; lastTime = now; frames = 0; return }
        guard now >= next else { return }
        let fps = Double(frames) / (Double(now - lastTime) / 1e9)
        frames = 0
        lastTime = now
        next = now + interval
        write(Self.line(seconds: Double(now - start) / 1e9, source: names.indices.contains(result.feed) ? names[result.feed] : "?",
                        top: result.top3, label: label, fps: fps))
    }

    /// "   3.0 s  folder demo: tabby 62%, tiger cat 21%, Egyptian cat 9%  (14.8 fps)"
    public static func line(seconds: Double, source: String, top: TopThree, label: (Int) -> String, fps: Double) -> String {
        let classes = top.entries.map { "\(label($0.index)) \(String(format: "%.0f", Double($0.probability) * 100))%" }
        return String(format: "%6.1f s  ", seconds) + source + ": " + classes.joined(separator: ", ") + String(format: "  (%.1f fps)", fps)
    }
}
