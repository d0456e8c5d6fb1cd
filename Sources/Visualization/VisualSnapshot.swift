import Engine

/// One ranked class.
public struct TopEntry: Sendable, Equatable {
    public var index: Int
    public var label: String
    public var prob: Float

    public init(index: Int, label: String, prob: Float) {
        self.index = index; self.label = label; self.prob = prob
    }
}

/// Frame rates and latency of the pipeline, as the status line shows them.
public struct FrameStats: Sendable, Equatable {
    public var captureFPS: Float = 0
    public var inferenceFPS: Float = 0
    /// Capture to snapshot, milliseconds.
    public var latencyMs: Float = 0
    public var dropped: Int = 0
    public var frame: Int = 0
    /// Frames the window presented per second (0 when there is no window).
    public var displayFPS: Float = 0
    /// `MonotonicClock` nanoseconds when the frame this snapshot shows was captured (0: unknown).
    public var captureTime: UInt64 = 0

    public init(captureFPS: Float = 0, inferenceFPS: Float = 0, latencyMs: Float = 0, dropped: Int = 0, frame: Int = 0) {
        self.captureFPS = captureFPS; self.inferenceFPS = inferenceFPS; self.latencyMs = latencyMs
        self.dropped = dropped; self.frame = frame
    }
}

/// How a projection is shown: the toolbox's back-filter modes.
public enum ProjectionFilter: String, CaseIterable, Sendable {
    /// Signed around mid-gray, in colour.
    case raw
    /// Signed around mid-gray, the three channels averaged.
    case gray
    /// The magnitude, black at zero.
    case norm
    /// The magnitude after a small Gaussian blur.
    case normBlur = "norm+blur"

    public var rendering: ProjectionRendering {
        switch self {
        case .raw, .gray: return ProjectionRendering(style: .signed)
        case .norm: return ProjectionRendering(style: .absolute)
        case .normBlur: return ProjectionRendering(style: .absolute, blurSigma: 2)
        }
    }
}

/// What the inference thread hands the UI for one frame: everything the window draws, copied out
/// of the network so the next forward pass can run while the UI draws this one.
///
/// A reference type on purpose: the pipeline owns two (or three) and swaps them, refilling each in
/// place, so a frame allocates nothing once the shapes have been seen. Whoever holds a snapshot
/// owns it until it hands it back.
public final class VisualSnapshot: @unchecked Sendable {
    /// The input as the network sees it (after crop and resize), RGB.
    public private(set) var input: [UInt8] = []
    public private(set) var inputWidth = 0
    public private(set) var inputHeight = 0

    /// Every selectable layer's name, in execution order.
    public var layerNames: [String] = []
    /// The selected layer (index into `layerNames`) and its activations.
    public var layer = 0
    public private(set) var activations: [Float] = []
    public private(set) var channels = 0
    public private(set) var height = 0
    public private(set) var width = 0
    /// True when `activations` holds the projection's gradient at this layer, not activations.
    public var gridShowsGradient = false
    /// Whether the layer is [N, K] (fully connected): one unit per channel, no map.
    public var fullyConnected = false
    /// Names of the layer's channels when they are classes (the output layer), else nil.
    public var channelLabels: [String]?

    /// The selected unit and the position the projection starts from (nil: the whole map).
    public var channel = 0
    public var position: (y: Int, x: Int)?

    /// The selected layer's receptive field in input pixels (nil: unknown).
    public var receptiveField: ReceptiveField?

    /// Up to five classes, best first.
    public var top: [TopEntry] = []

    /// The projection of a unit, rendered (RGB, the input's size); empty when none was computed.
    public private(set) var projection: [UInt8] = []
    public private(set) var projectionWidth = 0
    public private(set) var projectionHeight = 0
    /// The unit the projection belongs to (layer index, channel), and how it was made.
    public var projectionLayer = -1
    public var projectionChannel = -1
    public var projectionMode: ProjectionMode?
    public var projectionFilter: ProjectionFilter = .raw
    /// True when the projection is of a pinned unit (not stale when another unit is selected).
    public var projectionPinned = false

    public var stats = FrameStats()
    /// Where frames come from ("image: chelsea.png", "v4l2:/dev/video0", …).
    public var source = ""
    /// A one-line message for the status line (empty: none).
    public var message = ""

    public init() {}

    /// True when the projection shown is of another unit than the selected one (draw it dimmed).
    public var projectionIsStale: Bool {
        projectionWidth == 0 || (!projectionPinned && (projectionLayer != layer || projectionChannel != channel))
    }

    public var hasProjection: Bool { projectionWidth > 0 && projectionHeight > 0 && projectionMode != nil }

    /// Copies the input picture (RGB, `width`×`height`).
    public func setInput(_ pixels: UnsafeBufferPointer<UInt8>, width w: Int, height h: Int) {
        VisualSnapshot.copy(pixels, count: w * h * 3, into: &input)
        inputWidth = w; inputHeight = h
    }

    /// Gives write access to the input picture after sizing it to `width`×`height`.
    public func withInput<R>(width w: Int, height h: Int, _ body: (UnsafeMutableBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if input.count != w * h * 3 { input = [UInt8](repeating: 0, count: w * h * 3) }
        inputWidth = w; inputHeight = h
        return try input.withUnsafeMutableBufferPointer { try body($0) }
    }

    /// Copies the selected layer's activations, C×H×W.
    public func setActivations(_ values: UnsafeBufferPointer<Float>, channels c: Int, height h: Int, width w: Int) {
        VisualSnapshot.copy(values, count: c * h * w, into: &activations)
        channels = c; height = h; width = w
    }

    /// Gives write access to the projection picture after sizing it.
    public func withProjection<R>(width w: Int, height h: Int, _ body: (UnsafeMutableBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if projection.count != w * h * 3 { projection = [UInt8](repeating: 0, count: w * h * 3) }
        projectionWidth = w; projectionHeight = h
        return try projection.withUnsafeMutableBufferPointer { try body($0) }
    }

    /// Copies a rendered projection (RGB).
    public func setProjection(_ pixels: UnsafeBufferPointer<UInt8>, width w: Int, height h: Int) {
        VisualSnapshot.copy(pixels, count: w * h * 3, into: &projection)
        projectionWidth = w; projectionHeight = h
    }

    /// Forgets the projection (mode off).
    public func clearProjection() {
        projectionWidth = 0; projectionHeight = 0
        projectionMode = nil
        projectionPinned = false
        projectionLayer = -1; projectionChannel = -1
    }

    /// The activation map of one channel (H×W floats).
    public func withChannel<R>(_ c: Int, _ body: (UnsafeBufferPointer<Float>) -> R) -> R {
        activations.withUnsafeBufferPointer { a in
            let plane = height * width
            guard c >= 0, c < channels, a.count >= (c + 1) * plane else { return body(UnsafeBufferPointer(start: a.baseAddress, count: 0)) }
            return body(UnsafeBufferPointer(rebasing: a[(c * plane)..<((c + 1) * plane)]))
        }
    }

    /// The value of unit `c` at (y, x) (its only value for a fully connected layer).
    public func value(channel c: Int, y: Int = 0, x: Int = 0) -> Float? {
        guard c >= 0, c < channels, y >= 0, y < height, x >= 0, x < width else { return nil }
        return activations[(c * height + y) * width + x]
    }

    private static func copy<T: Numeric>(_ src: UnsafeBufferPointer<T>, count: Int, into dst: inout [T]) {
        precondition(src.count >= count, "\(src.count) values where \(count) are needed")
        if dst.count != count { dst = [T](repeating: 0, count: count) }
        dst.withUnsafeMutableBufferPointer { d in
            guard count > 0 else { return }
            d.baseAddress!.update(from: src.baseAddress!, count: count)
        }
    }
}

/// The last projection rendered, kept so that a frame whose projection is skipped (the inference
/// thread is behind the source) shows the newest one of the same unit instead of none. Its pixel
/// buffer is allocated once per size.
public final class ProjectionCache: @unchecked Sendable {
    public private(set) var pixels: [UInt8] = []
    public private(set) var width = 0
    public private(set) var height = 0
    public private(set) var origin: Selection.Origin?
    public private(set) var mode: ProjectionMode?
    public private(set) var filter: ProjectionFilter = .raw
    public private(set) var pinned = false

    public init() {}

    /// Keeps the projection `snapshot` holds, made for `selection`.
    public func store(_ snapshot: VisualSnapshot, selection: Selection) {
        guard snapshot.hasProjection else { origin = nil; return }
        let n = snapshot.projectionWidth * snapshot.projectionHeight * 3
        if pixels.count != n { pixels = [UInt8](repeating: 0, count: n) }
        snapshot.projection.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: src.baseAddress!, count: n) }
        }
        width = snapshot.projectionWidth; height = snapshot.projectionHeight
        origin = SnapshotBuilder.projected(selection)
        mode = selection.mode; filter = selection.filter; pinned = selection.origin != nil
    }

    /// Whether the kept projection is the one `selection` asks for.
    public func matches(_ selection: Selection) -> Bool {
        origin != nil && origin == SnapshotBuilder.projected(selection) && mode == selection.mode && filter == selection.filter
            && !selection.gridGradient
    }

    /// Copies the kept projection into `snapshot`.
    public func restore(into snapshot: VisualSnapshot) {
        guard let origin else { return }
        pixels.withUnsafeBufferPointer { snapshot.setProjection($0, width: width, height: height) }
        snapshot.projectionMode = mode
        snapshot.projectionFilter = filter
        snapshot.projectionLayer = origin.layer
        snapshot.projectionChannel = origin.channel
        snapshot.projectionPinned = pinned
    }
}
