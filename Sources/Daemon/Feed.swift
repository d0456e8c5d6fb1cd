// What the pipeline is made of and what it hands out: feeds (source → mailbox → capture thread →
// input preparer), the window's stage, each frame's result, and the rate meter of the status line.

import Capture
import Engine
import Interface
import ModelIO
import Support
import Visualization

/// The network's best class for one frame.
public struct Classification: Sendable, Equatable {
    /// The mailbox number of the frame classified.
    public var frameNumber: UInt64
    /// The output index of the top class.
    public var index: Int
    /// Its probability (the softmax of the output where the network does not end in one).
    public var probability: Float
    /// `MonotonicClock` nanoseconds: when the frame was captured, and when its result was ready.
    public var captureTime: UInt64
    public var resultTime: UInt64
    /// The three best classes, best first (index, probability); the first is `index`.
    public var top3: TopThree = TopThree()
    /// The feed (index into `Pipeline.feeds`) the frame came from.
    public var feed: Int = 0

    public init(frameNumber: UInt64, index: Int, probability: Float, captureTime: UInt64, resultTime: UInt64,
                top3: TopThree = TopThree(), feed: Int = 0) {
        self.frameNumber = frameNumber
        self.index = index
        self.probability = probability
        self.captureTime = captureTime
        self.resultTime = resultTime
        self.top3 = top3
        self.feed = feed
    }
}

/// The best three classes of a frame, kept inline so that the frame loop allocates nothing.
public struct TopThree: Sendable, Equatable {
    public var first = (index: 0, probability: Float(0))
    public var second = (index: 0, probability: Float(0))
    public var third = (index: 0, probability: Float(0))

    public init() {}

    /// The entries, best first (as many as the output has, up to three).
    public var entries: [(index: Int, probability: Float)] { Array([first, second, third].prefix(count)) }
    /// How many entries are filled (fewer than three on a tiny output).
    public var count = 0

    public static func == (a: TopThree, b: TopThree) -> Bool {
        a.count == b.count && zip(a.entries, b.entries).allSatisfy { $0.index == $1.index && $0.probability == $1.probability }
    }
}

/// What the pipeline is asked to do.
public struct PipelineOptions: Sendable {
    /// Stall timeout and reconnect backoff of the capture thread.
    public var capture: CapturePolicy
    /// Stop after this many inferred frames; nil runs until `stop`.
    public var frameLimit: Int?

    public init(capture: CapturePolicy = CapturePolicy(), frameLimit: Int? = nil) {
        self.capture = capture
        self.frameLimit = frameLimit
    }
}

/// One source and what it needs: its mailbox, its capture thread and the input preparer sized for
/// its frames. A pipeline has one or more; the window switches between them.
public final class Feed: @unchecked Sendable {
    public let source: any FrameSource
    /// The source's name, kept so the frame loop never formats it.
    public let name: String
    /// Nanoseconds between the source's frames (0: as fast as it can).
    public let frameInterval: UInt64
    public let mailbox: FrameMailbox
    public let capture: CaptureThread
    public let preparer: InputPreparer
    /// The source's own controls (a folder's file steps), if it has any.
    public let controls: (any SourceControls)?

    /// "image /a/b/cat.png" → "image cat.png": the status line has no room for whole paths.
    static func shortName(_ name: String) -> String {
        guard let space = name.firstIndex(of: " "), name.hasPrefix("camera") == false else { return name }
        let path = name[name.index(after: space)...]
        guard let slash = path.lastIndex(of: "/"), path.index(after: slash) < path.endIndex else { return name }
        return String(name[..<space]) + " " + String(path[path.index(after: slash)...])
    }

    init(source: any FrameSource, network: Network, preprocessing: Preprocessing, policy: CapturePolicy,
         onEvent: @escaping @Sendable (CaptureEvent) -> Void) throws(PipelineError) {
        self.source = source
        name = Feed.shortName(source.name)
        frameInterval = source.frameRate > 0 ? UInt64(1e9 / source.frameRate) : 0
        preparer = try InputPreparer(preprocessing: preprocessing, frame: source.geometry, inputCount: network.input.count)
        controls = source.controls
        mailbox = FrameMailbox(geometry: source.geometry)
        capture = CaptureThread(source: source, mailbox: mailbox, policy: policy, onEvent: onEvent)
    }
}

/// What the inference thread does for a window after each forward pass: the selected unit's
/// projection and a `VisualSnapshot` of the frame, handed over through the exchange, with the
/// window's requests read from the channel.
public final class VisualStage: @unchecked Sendable {
    public let builder: SnapshotBuilder
    public let exchange: SnapshotExchange
    public let requests: RequestChannel
    /// Per snapshot: projection, rendering and copying into the snapshot (nanoseconds).
    public let fillTimes = TimingRecorder()
    /// When false, every snapshot gets a freshly computed projection. When true (the default),
    /// a frame arriving while inference is behind the source reuses the previous frame's projection
    /// of the same unit (at most every other frame), so that frames keep flowing at the source's
    /// rate on a CPU that cannot do both on every frame.
    public var adaptiveProjection = true
    let cache = ProjectionCache()
    /// Snapshots published and projections computed for them.
    private let counts = Monitor()
    private var snapshots: UInt64 = 0
    private var projections: UInt64 = 0

    /// Snapshots published so far, and how many of them got a projection computed for them.
    public var projectionCounts: (snapshots: UInt64, projected: UInt64) { counts.withLock { (snapshots, projections) } }

    func count(projected: Bool) {
        counts.withLock {
            snapshots += 1
            if projected { projections += 1 }
        }
    }

    public init(builder: SnapshotBuilder, exchange: SnapshotExchange = SnapshotExchange(), requests: RequestChannel) {
        self.builder = builder
        self.exchange = exchange
        self.requests = requests
    }
}

/// Capture and inference frame rates over the last second or so.
struct RateMeter {
    private var markTime: UInt64 = 0
    private var markCaptured: UInt64 = 0
    private var markInferred: UInt64 = 0
    private(set) var captureFPS: Float = 0
    private(set) var inferenceFPS: Float = 0

    mutating func update(now: UInt64, captured: UInt64, inferred: UInt64) {
        if markTime == 0 {
            markTime = now; markCaptured = captured; markInferred = inferred
            return
        }
        let dt = Double(now &- markTime) / 1e9
        guard dt >= 0.5 else { return }
        captureFPS = Float(Double(captured &- markCaptured) / dt)
        inferenceFPS = Float(Double(inferred &- markInferred) / dt)
        markTime = now; markCaptured = captured; markInferred = inferred
    }
}

