import Engine
import Foundation

/// How the network's input tensor maps back to pixels (the inverse of the model's preprocessing):
/// pixel = (x · std + mean) / pixelRange · 255, channels swapped back for BGR models.
public struct InputEncoding: Sendable, Equatable {
    public var mean: [Float]
    public var std: [Float]
    public var pixelRange: Float
    public var bgr: Bool

    public init(mean: [Float], std: [Float], pixelRange: Float, bgr: Bool) {
        precondition(mean.count == 3 && std.count == 3, "three means and deviations")
        self.mean = mean; self.std = std; self.pixelRange = pixelRange; self.bgr = bgr
    }
}

/// What the user selected, as the inference thread needs it.
public struct Selection: Sendable, Equatable {
    /// Index into `SnapshotBuilder.layers`.
    public var layer: Int
    public var channel: Int
    /// The projection's seed position in the layer's map (nil: the whole map).
    public var position: Position?
    /// nil: projections off.
    public var mode: ProjectionMode?
    public var filter: ProjectionFilter

    public struct Position: Sendable, Equatable {
        public var y: Int, x: Int
        public init(y: Int, x: Int) { self.y = y; self.x = x }
    }

    public init(layer: Int, channel: Int, position: Position? = nil, mode: ProjectionMode? = .guided, filter: ProjectionFilter = .raw) {
        self.layer = layer; self.channel = channel; self.position = position; self.mode = mode; self.filter = filter
    }
}

/// Fills a `VisualSnapshot` from a network after its forward pass: the input as the network sees
/// it, the selected layer's activations, the top classes, and the selected unit's projection.
/// The live pipeline calls `fill` once per frame; `deepscope render` once. Everything it needs is
/// allocated at init (or when the selected layer's shape is first seen).
public final class SnapshotBuilder: @unchecked Sendable {
    public let network: Network
    public let projector: Projector
    /// The selectable layers: every node's output value, in execution order.
    public let layers: [Int]
    public let layerNames: [String]
    public let labels: [String]?
    public let encoding: InputEncoding
    /// The class scores (the graph's first output) and whether they are probabilities already.
    public let output: Int?
    public let outputIsProbability: Bool
    private let renderer = ProjectionRenderer()
    private var best = [(index: Int, score: Float)](repeating: (0, 0), count: 5)

    public init(network: Network, labels: [String]?, encoding: InputEncoding, projector: Projector? = nil) {
        self.network = network
        self.projector = projector ?? Projector(network: network)
        let graph = network.graph
        layers = graph.nodes.map(\.output)
        layerNames = layers.map { graph.values[$0].name }
        self.labels = labels
        self.encoding = encoding
        output = graph.outputs.first
        if let o = output, let node = graph.node(producing: o), case .softmax = node.op {
            outputIsProbability = true
        } else {
            outputIsProbability = false
        }
    }

    /// The index in `layers` of the layer named `name`.
    public func layerIndex(named name: String) -> Int? { layerNames.firstIndex(of: name) }

    /// Whether the network has max pooling (where deconv gives the classic pictures; elsewhere,
    /// strided convolutions make it a checkerboard and guided backprop reads better).
    public var hasMaxPooling: Bool {
        network.graph.nodes.contains { if case .maxPool = $0.op { return true } else { return false } }
    }

    /// The projection mode to start with on this network.
    public var defaultMode: ProjectionMode { hasMaxPooling ? .deconv : .guided }

    /// The layer to show first: the last one whose map is at least 1/16 of the input's size (a
    /// mid-level layer with parts of objects), else the last layer with a map.
    public var defaultLayer: Int {
        let graph = network.graph
        let inputH = graph.values[graph.input].shape.chw.h
        var fallback = 0
        for (i, v) in layers.enumerated() {
            let s = graph.values[v].shape
            guard s.rank == 4 else { continue }
            fallback = i
        }
        for (i, v) in layers.enumerated().reversed() {
            let s = graph.values[v].shape
            if s.rank == 4, s.chw.h * 16 >= inputH, s.chw.h > 1 { return i }
        }
        return fallback
    }

    /// The channel with the largest single activation in layer `index` (after a forward pass).
    public func mostActiveChannel(layer index: Int) -> Int {
        let v = layers[index]
        let (c, h, w) = network.graph.values[v].shape.chw
        let a = network.buffer(v)
        var best = 0, top = -Float.infinity
        for ch in 0..<c {
            for i in 0..<(h * w) where a[ch * h * w + i] > top { top = a[ch * h * w + i]; best = ch }
        }
        return best
    }

    /// Checks a selection against the layer's shape: one sentence naming the valid range.
    public func validate(_ s: Selection) throws {
        guard s.layer >= 0, s.layer < layers.count else {
            throw ProjectionError.unknownLayer("#\(s.layer)")
        }
        let v = layers[s.layer]
        try projector.validate(value: v, channel: s.channel,
                               at: network.graph.values[v].shape.rank == 2 ? nil : s.position.map { ($0.y, $0.x) })
    }

    /// Fills `snapshot` from the network's last forward pass (and projects the unit when a mode is
    /// selected). Throws when the selection does not fit the layer.
    public func fill(_ snapshot: VisualSnapshot, selection s: Selection) throws {
        try validate(s)
        let graph = network.graph
        if snapshot.layerNames.count != layerNames.count { snapshot.layerNames = layerNames }

        // The input as the network sees it.
        let inShape = graph.values[graph.input].shape
        let (_, ih, iw) = inShape.chw
        let x = network.input
        let e = encoding
        snapshot.withInput(width: iw, height: ih) { px in
            let plane = ih * iw
            for c in 0..<3 {
                let src = e.bgr ? 2 - c : c
                let k = e.std[src] * 255 / e.pixelRange, m = e.mean[src] * 255 / e.pixelRange
                for i in 0..<plane {
                    px[i * 3 + c] = UInt8(max(0, min(255, (x[src * plane + i] * k + m).rounded())))
                }
            }
        }

        // The layer.
        let v = layers[s.layer]
        let shape = graph.values[v].shape
        let (c, h, w) = shape.chw
        snapshot.setActivations(UnsafeBufferPointer(network.buffer(v)), channels: c, height: h, width: w)
        snapshot.layer = s.layer
        snapshot.fullyConnected = shape.rank == 2
        snapshot.channelLabels = (labels != nil && labels!.count == c && v == output) ? labels : nil
        snapshot.channel = s.channel
        snapshot.position = s.position.map { ($0.y, $0.x) }

        fillTop(snapshot)

        // The projection.
        if let mode = s.mode {
            let g = try projector.project(value: v, channel: s.channel, at: s.position.map { ($0.y, $0.x) }, mode: mode)
            snapshot.withProjection(width: iw, height: ih) { out in
                renderer.render(UnsafeBufferPointer(g), height: ih, width: iw, bgr: e.bgr, filter: s.filter, into: out)
            }
            snapshot.projectionMode = mode
            snapshot.projectionFilter = s.filter
            snapshot.projectionLayer = s.layer
            snapshot.projectionChannel = s.channel
        } else {
            snapshot.clearProjection()
        }
    }

    /// The five best classes (softmax applied when the output is raw scores), without allocating.
    private func fillTop(_ snapshot: VisualSnapshot) {
        guard let o = output else { snapshot.top.removeAll(keepingCapacity: true); return }
        let scores = network.buffer(o)
        let k = min(5, scores.count)
        var n = 0
        for i in 0..<scores.count {
            let s = scores[i]
            if n < k {
                var j = n
                while j > 0 && best[j - 1].score < s { best[j] = best[j - 1]; j -= 1 }
                best[j] = (i, s); n += 1
            } else if s > best[k - 1].score {
                var j = k - 1
                while j > 0 && best[j - 1].score < s { best[j] = best[j - 1]; j -= 1 }
                best[j] = (i, s)
            }
        }
        var denominator: Float = 1, peak: Float = 0
        if !outputIsProbability {
            peak = n > 0 ? best[0].score : 0
            denominator = 0
            for i in 0..<scores.count { denominator += expf(scores[i] - peak) }
        }
        snapshot.top.removeAll(keepingCapacity: true)
        for r in 0..<n {
            let (index, score) = best[r]
            let prob = outputIsProbability ? score : expf(score - peak) / denominator
            let label = labels.flatMap { index < $0.count ? $0[index] : nil } ?? "class \(index)"
            snapshot.top.append(TopEntry(index: index, label: label, prob: prob))
        }
    }
}
