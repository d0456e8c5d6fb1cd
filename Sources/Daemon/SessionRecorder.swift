// `run --session DIR`: the input frames that reach the network, losslessly (FFV1 in Matroska), with
// their capture times and sequence numbers, and every change of the request, on a thread of its own.

import Capture
import Foundation
import ModelIO
import Recording
import Support
import Visualization

/// What the inference thread tells an observer of its input: each new frame just before the network
/// reads it, and each request just taken over (the first one before any frame). Both are called on
/// the inference thread and must return at once.
public protocol InputObserver: AnyObject {
    func input(_ frame: MailboxFrame, feed: Int)
    func request(_ request: LiveRequest)
}

/// What a finished session recording holds.
public struct SessionRecordingSummary: Sendable, Equatable {
    public var frames: Int
    /// Frames the writer thread had no room for (it was behind), or of another size than the
    /// first source's.
    public var dropped: Int
    public var actions: Int
    public var stoppedEarly: String?
}

/// Records a session into a folder: `input.mkv` (every frame the network reads, FFV1, exactly the
/// bytes it read), `frames.jsonl`, `actions.jsonl` and `session.json` (see `SessionLog`).
///
/// `input` copies the frame into one of a few preallocated slots and returns; the writer thread
/// encodes the slots in order, appends the frame's line once its video frame is flushed, and
/// writes the action lines queued before it. Every line is written with one `write`, so a kill
/// leaves whole lines for the frames in the video (at most a cut last line, which readers skip).
/// With no free slot the frame is dropped and counted: the network never waits for the disk.
public final class SessionRecorder: InputObserver, FrameSink, @unchecked Sendable {
    public let directory: String
    public let geometry: FrameGeometry
    public let layerNames: [String]

    private struct Slot {
        let pixels: UnsafeMutablePointer<UInt8>
        var number: UInt64 = 0
        var sourceSequence: UInt64 = 0
        var captureTime: UInt64 = 0
        var feed = 0
        var seq = 0
    }
    private static let slotCount = 16

    private let writer: LosslessVideoWriter
    private let framesFile: Int32
    private let actionsFile: Int32
    private let storage: UnsafeMutablePointer<UInt8>
    private var slots: [Slot]
    private let monitor = Monitor()
    // Guarded by `monitor`: the ring (first pending slot and count), the actions waiting to be
    // written (each with the number of frames to write before it), the counters.
    private var head = 0
    private var pending = 0
    private var queuedActions: [(afterFrames: Int, line: SessionActionRecord)] = []
    private var accepted = 0
    private var dropped = 0
    private var written = 0
    private var actionCount = 0
    private var closed = false
    private var failure: String?
    private var logged = 0
    // Only the inference thread touches these.
    private var lastRequest: LiveRequest?
    private var thread: WorkerThread?
    private var firstCapture: UInt64?
    private let log: @Sendable (String) -> Void
    public private(set) var summary: SessionRecordingSummary?

    /// Creates `directory` (it must not hold a session already) and its files, and starts the
    /// writer thread.
    /// - Throws: `SessionError` naming the folder or file that cannot be written.
    public init(directory: String, geometry: FrameGeometry, layerNames: [String], header: SessionHeader,
                log: @escaping @Sendable (String) -> Void) throws(SessionError) {
        self.directory = directory
        self.geometry = geometry
        self.layerNames = layerNames
        self.log = log
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw SessionError("--session \(directory) is a file, not a folder.") }
            guard !fm.fileExists(atPath: directory + "/frames.jsonl") else {
                throw SessionError("--session \(directory) already holds a recorded session; choose a new folder.")
            }
        } else {
            do { try fm.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
                throw SessionError("Cannot create the session folder \(directory).")
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let headerData = try? encoder.encode(header),
              (try? (headerData + Data("\n".utf8)).write(to: URL(fileURLWithPath: directory + "/session.json"), options: .atomic)) != nil else {
            throw SessionError("Cannot write \(directory)/session.json.", badInput: false)
        }
        func create(_ name: String) throws(SessionError) -> Int32 {
            let fd = open(directory + "/" + name, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw SessionError("Cannot create \(directory)/\(name): \(String(cString: strerror(errno))).", badInput: false) }
            return fd
        }
        framesFile = try create("frames.jsonl")
        do { actionsFile = try create("actions.jsonl") } catch {
            Foundation.close(framesFile)
            throw error
        }
        do throws(RecordingError) {
            writer = try LosslessVideoWriter(path: directory + "/input.mkv", width: geometry.width, height: geometry.height)
        } catch {
            Foundation.close(framesFile)
            Foundation.close(actionsFile)
            throw SessionError(error.description, badInput: error.isBadInput)
        }
        let bytes = geometry.byteCount
        let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: Self.slotCount * bytes)
        storage.initialize(repeating: 0, count: Self.slotCount * bytes)
        self.storage = storage
        slots = (0..<Self.slotCount).map { Slot(pixels: storage + $0 * bytes) }
        thread = WorkerThread(name: "ds-session") { [self] in run() }
    }

    deinit {
        close()
        storage.deallocate()
    }

    // MARK: - The inference thread

    public func input(_ frame: MailboxFrame, feed: Int) {
        let free: Int? = monitor.withLock {
            guard !closed, failure == nil else { return nil }
            guard pending < Self.slotCount, frame.geometry == geometry else {
                dropped += 1
                return nil
            }
            return (head + pending) % Self.slotCount
        }
        guard let free else { return }
        // The writer thread never reads a slot before it is committed below.
        slots[free].pixels.update(from: frame.pixels, count: geometry.byteCount)
        slots[free].number = frame.number
        slots[free].sourceSequence = frame.stamp.sourceSequence
        slots[free].captureTime = frame.stamp.captureTime
        slots[free].feed = feed
        monitor.withLock {
            slots[free].seq = accepted
            accepted += 1
            pending += 1
        }
        monitor.broadcast()
    }

    public func request(_ r: LiveRequest) {
        guard r != lastRequest else { return }
        let now = MonotonicClock.now()
        monitor.withLock {
            guard !closed else { return }
            logged += 1
            queuedActions.append((accepted, SessionActionRecord(frame: accepted, timeNs: now, request: r, previous: lastRequest,
                                                                layerNames: layerNames)))
        }
        lastRequest = r
        monitor.broadcast()
    }

    // MARK: - The writer thread

    private func run() {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        while true {
            monitor.lock()
            while pending == 0 && !closed && (queuedActions.first.map { $0.afterFrames > written } ?? true) {
                monitor.wait(until: MonotonicClock.now() &+ 200 * Nanoseconds.millisecond)
            }
            // Actions due before the next frame, then one frame.
            var due: [SessionActionRecord] = []
            // (Once closed with no frame left, every action left is written.)
            while let a = queuedActions.first, a.afterFrames <= written || (closed && pending == 0) {
                due.append(a.line)
                queuedActions.removeFirst()
            }
            let slot: Slot? = pending > 0 ? slots[head] : nil
            let done = closed && pending == 0 && queuedActions.isEmpty
            monitor.unlock()
            for a in due { append(encoder, a, to: actionsFile) }
            if !due.isEmpty { monitor.withLock { actionCount += due.count } }
            if let slot {
                let first = firstCapture ?? slot.captureTime
                firstCapture = first
                let pts = Int64((slot.captureTime &- first) / Nanoseconds.millisecond)
                writer.encode(slot.pixels, milliseconds: pts)
                let ok = writer.failure == nil
                if ok {
                    append(encoder, SessionFrameRecord(seq: slot.seq, frame: slot.number, sourceSeq: slot.sourceSequence, captureNs: slot.captureTime, ptsMs: pts, feed: slot.feed),
                           to: framesFile)
                }
                monitor.withLock {
                    head = (head + 1) % Self.slotCount
                    pending -= 1
                    if ok { written += 1 } else if failure == nil { failure = writer.failure }
                }
                monitor.broadcast()
            }
            if done { return }
        }
    }

    private func append<T: Encodable>(_ encoder: JSONEncoder, _ value: T, to fd: Int32) {
        guard var data = try? encoder.encode(value) else { return }
        data.append(UInt8(ascii: "\n"))
        let ok = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) == $0.count }
        if !ok { monitor.withLock { if failure == nil { failure = "writing a log line failed (\(String(cString: strerror(errno))))" } } }
    }

    // MARK: - Finishing

    /// Writes what is pending, ends the video and closes the files; logs one line. Idempotent.
    public func close() {
        guard let thread else { return }
        self.thread = nil
        monitor.withLock { closed = true }
        monitor.broadcast()
        thread.join()
        writer.finish()
        Foundation.close(framesFile)
        Foundation.close(actionsFile)
        let s: SessionRecordingSummary = monitor.withLock {
            SessionRecordingSummary(frames: written, dropped: dropped + (accepted - written), actions: actionCount,
                                    stoppedEarly: failure ?? writer.failure)
        }
        summary = s
        log("Session \(directory): \(s.frames) frames, \(s.actions) actions recorded" + (s.dropped > 0 ? ", \(s.dropped) frames dropped" : "")
            + (s.stoppedEarly.map { "; stopped early: \($0)" } ?? "") + ".")
    }

    /// Frames taken from the network's input so far (the `seq` the next one gets).
    public var framesSeen: Int { monitor.withLock { accepted } }
    /// Requests taken over and queued for `actions.jsonl` so far.
    public var requestsLogged: Int { monitor.withLock { logged } }
    /// Frames written so far (their lines are in `frames.jsonl`).
    public var framesWritten: Int { monitor.withLock { written } }
}

extension Session {
    /// The session recorder the configuration asks for (nil without `sessionDirectory`), recording
    /// the first source's frames.
    static func sessionRecorder(_ c: SessionConfiguration, pipeline: Pipeline, model: Model) throws(SessionError) -> SessionRecorder? {
        guard let directory = c.sessionDirectory else { return nil }
        let source = pipeline.source
        let header = SessionHeader(model: model.url.path, source: source.name, width: source.geometry.width,
                                   height: source.geometry.height, startedAt: Date().timeIntervalSince1970,
                                   startedNs: MonotonicClock.now())
        return try SessionRecorder(directory: directory, geometry: source.geometry,
                                   layerNames: pipeline.visual?.builder.layerNames ?? [], header: header, log: c.log)
    }
}
