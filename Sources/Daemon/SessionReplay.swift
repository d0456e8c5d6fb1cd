// `deepscope replay DIR`: a recorded session played back through the same pipeline, deterministically:
// each recorded frame reaches the network in order (none dropped), with the recorded requests taken
// over before the frame they apply from.

import Capture
import Foundation
import Support
import Visualization

/// A recorded session (`run --session DIR`) as a frame source and a request driver.
///
/// The source (`ReplaySource`) hands out the frames of `input.mkv` one at a time: frame k only once
/// the network has taken frame k − 1 (so the mailbox never holds two and never drops one), and only
/// once the pipeline has taken over the request recorded for frame k (sent down the window's
/// request channel, acknowledged through `InputObserver.request`). Freezing is not replayed — the
/// recording holds no frame while frozen — and the source is always the recording.
public final class SessionReplay: InputObserver, @unchecked Sendable {
    public let directory: String
    public let header: SessionHeader
    public let frames: [SessionFrameRecord]
    public let actions: [SessionActionRecord]
    /// Show this layer instead of the recorded ones.
    public let layer: String?
    public let source: ReplaySource

    private let monitor = Monitor()
    // Guarded by `monitor`.
    private var consumed = 0
    private var taken: LiveRequest?
    // Set by `attach` before the pipeline starts.
    private var channel: RequestChannel?
    private var layerNames: [String] = []
    private var layerShapes: [LayerShape] = []

    /// Reads the session in `directory`.
    /// - Throws: `SessionError` naming the folder or file that is missing or unreadable.
    public init(directory: String, layer: String? = nil) throws(SessionError) {
        self.directory = directory
        self.layer = layer
        let video = directory + "/input.mkv"
        for name in ["session.json", "frames.jsonl", "actions.jsonl", "input.mkv"] where !FileManager.default.fileExists(atPath: directory + "/" + name) {
            throw SessionError("\(directory) is not a recorded session: it has no \(name) (`run --session DIR` records one).")
        }
        do {
            header = try JSONDecoder().decode(SessionHeader.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/session.json")))
        } catch {
            throw SessionError("\(directory)/session.json cannot be read: \(error).")
        }
        frames = try SessionLogReader.lines(SessionFrameRecord.self, path: directory + "/frames.jsonl")
        actions = try SessionLogReader.lines(SessionActionRecord.self, path: directory + "/actions.jsonl")
        guard !frames.isEmpty else { throw SessionError("The session \(directory) holds no frame.") }
        source = ReplaySource(path: video, count: frames.count)
        source.replay = self
    }

    /// Drives `pipeline` (which must have the window's stage to take requests): call before `start`.
    func attach(_ pipeline: Pipeline) {
        pipeline.inputObserver = self
        channel = pipeline.visual?.requests
        layerNames = pipeline.visual?.builder.layerNames ?? []
        layerShapes = pipeline.visual?.builder.layerShapes ?? []
    }

    /// The request recorded for frame `seq` when one starts there (the last line for it), as this
    /// network takes it: layers by name (recorded layers it lacks keep the current one), `layer`
    /// in place of the recorded one, never frozen, always the recording as the source.
    func request(at seq: Int, current: LiveRequest) -> LiveRequest? {
        guard let line = actions.last(where: { $0.frame == seq }) else { return nil }
        var r = line.request(layerNames: layerNames) ?? {
            var keep = current
            keep.selection.mode = line.mode == "off" ? nil : current.selection.mode
            keep.mirror = line.mirror
            keep.stretch = line.stretch
            return keep
        }()
        if let layer, let i = layerNames.firstIndex(of: layer) {
            r.selection.layer = i
            r.selection.channel = min(r.selection.channel, layerShapes[i].channels - 1)
            r.selection.position = nil
        }
        r.frozen = false
        r.feed = 0
        r.fileSteps = 0
        return r
    }

    // MARK: - InputObserver (the inference thread)

    public func input(_ frame: MailboxFrame, feed: Int) {
        monitor.withLock { consumed += 1 }
        monitor.broadcast()
    }

    public func request(_ r: LiveRequest) {
        monitor.withLock { taken = r }
        monitor.broadcast()
    }

    // MARK: - The gate (the capture thread)

    /// Waits until the network has taken `produced` frames and the request for frame `produced` is
    /// taken over; false when `deadline` passed first.
    func ready(for produced: Int, deadline: UInt64) -> Bool {
        monitor.lock()
        // (`taken` is nil until the inference thread has started and taken its first request.)
        while consumed < produced || (channel != nil && taken == nil) {
            if !monitor.wait(until: deadline) { monitor.unlock(); return false }
        }
        let current = taken
        monitor.unlock()
        guard let channel, let current, let wanted = request(at: produced, current: current) else { return true }
        channel.send(wanted)
        monitor.lock()
        defer { monitor.unlock() }
        while taken != wanted {
            if !monitor.wait(until: deadline) { return false }
        }
        return true
    }
}

/// The frames of a recorded session's `input.mkv`, each only when `SessionReplay` says the network is
/// ready for it; `.ended` after the last.
public final class ReplaySource: FrameSource, @unchecked Sendable {
    public let path: String
    public let count: Int
    weak var replay: SessionReplay?
    private let video: VideoFileSource
    private var produced = 0

    init(path: String, count: Int) {
        self.path = path
        self.count = count
        // As fast as the network takes them, decoded every pass (nothing cached).
        video = VideoFileSource(path: path, options: SourceOptions(frameRate: 0), cacheBudget: 0)
    }

    public var name: String { "session \(path)" }
    public var geometry: FrameGeometry { video.geometry }
    public var frameRate: Double { 0 }
    public var detail: String { "\(count) recorded frames, \(video.geometry)" }

    public func open() throws(CaptureError) {
        try video.open()
        produced = 0
    }

    public func close() { video.close() }

    public func read(into destination: UnsafeMutablePointer<UInt8>, timeout: UInt64) -> FrameRead {
        guard produced < count else { return .ended }
        guard let replay, replay.ready(for: produced, deadline: MonotonicClock.now() &+ timeout) else { return .timeout }
        let r = video.read(into: destination, timeout: timeout)
        if case .frame = r { produced += 1 }
        return r
    }
}
