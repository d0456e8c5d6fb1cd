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
    /// Each selectable layer's receptive field (nil where it has none).
    public let receptiveFields: [ReceptiveField?]
    private let renderer = ProjectionRenderer()
    private var best = [ClassScore](repeating: .zero, count: 5)

    public init(network: Network, labels: [String]?, encoding: InputEncoding, projector: Projector? = nil) {
        self.network = network
        self.projector = projector ?? Projector(network: network)
        let graph = network.graph
        layers = graph.nodes.map(\.output)
        layerNames = layers.map { graph.values[$0].name }
        let fields = ReceptiveField.all(in: graph)
        receptiveFields = layers.map { fields[$0] }
        self.labels = labels
        self.encoding = encoding
        output = graph.outputs.first
        outputIsProbability = output.map { TopClasses.isProbability($0, in: graph) } ?? false
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

    /// The layer to show first: a mid-level layer whose maps show parts of objects.
    ///
    /// Among the layers whose map is at least 1/16 of the input's size, at the deepest such size:
    /// the last rectified output (Relu, Clip from 0, LeakyRelu) of a spatial convolution (a kernel
    /// larger than 1×1, depthwise or not); else the last rectified output there; else the last
    /// block output (a residual Add or a Concat); else the last layer of that size. With no map of
    /// that size, the last layer with a map.
    ///
    /// Why rectified and spatial: on inverted-residual networks such as EfficientNet-Lite0 the
    /// block outputs (`blk10_add`) are linear bottlenecks, signed, and look like gray noise in
    /// the grid; a rectified 1×1 expansion only remixes them. The rectified output of the 3×3 or
    /// 5×5 depthwise convolution (`blk10_dw_relu6`) is where each channel has looked at a
    /// neighbourhood and kept only what it found: eyes, nose and edges lit on black, the
    /// pictures the Deep Visualization Toolbox showed. On plain convolution–ReLU stacks (AlexNet,
    /// VGG) the rule picks the ReLU after a convolution.
    public var defaultLayer: Int {
        let graph = network.graph
        let inputH = graph.values[graph.input].shape.chw.h
        var fallback = 0
        for (i, v) in layers.enumerated() where graph.values[v].shape.rank == 4 { fallback = i }
        var candidate: Int?
        for (i, v) in layers.enumerated().reversed() {
            let s = graph.values[v].shape
            if s.rank == 4, s.chw.h * 16 >= inputH, s.chw.h > 1 { candidate = i; break }
        }
        guard let last = candidate else { return fallback }
        let size = graph.values[layers[last]].shape.chw.h
        // The layers of that size, last first (they run back to the previous change of size).
        var sameSize: [Int] = []
        for i in stride(from: last, through: 0, by: -1) {
            let v = layers[i]
            guard graph.values[v].shape.rank == 4, graph.values[v].shape.chw.h == size else { break }
            sameSize.append(i)
        }
        let rectified = sameSize.filter { isRectified(layers[$0]) }
        if let i = rectified.first(where: { afterSpatialConvolution(layers[$0]) }) { return i }
        if let i = rectified.first { return i }
        for i in sameSize {
            switch graph.node(producing: layers[i])?.op {
            case .add?, .concat?: return i
            default: break
            }
        }
        return last
    }

    /// Whether value `v` is a rectifier's output (zero or small below, as the toolbox's layers).
    private func isRectified(_ v: Int) -> Bool {
        switch network.graph.node(producing: v)?.op {
        case .relu?, .leakyRelu?: return true
        case .clip(let lo, _)?: return lo == 0
        default: return false
        }
    }

    /// Whether value `v` rectifies the output of a convolution with a kernel larger than 1×1.
    private func afterSpatialConvolution(_ v: Int) -> Bool {
        let graph = network.graph
        guard let node = graph.node(producing: v), let input = node.inputs.first,
              case .conv(let c)? = graph.node(producing: input)?.op else { return false }
        return c.window.kernelH > 1 || c.window.kernelW > 1
    }

    /// The channel with the largest single activation in layer `index` (after a forward pass).
    public func mostActiveChannel(layer index: Int) -> Int {
        let v = layers[index]
        let (c, h, w) = network.graph.values[v].shape.chw
        network.materialize(v)
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
        if let o = s.origin {
            guard o.layer >= 0, o.layer < layers.count else { throw ProjectionError.unknownLayer("#\(o.layer)") }
            let ov = layers[o.layer]
            try projector.validate(value: ov, channel: o.channel,
                                   at: network.graph.values[ov].shape.rank == 2 ? nil : o.position.map { ($0.y, $0.x) })
        }
    }

    /// The shape of every selectable layer: channels, map height and width, and whether it is
    /// fully connected ([N, K]).
    public var layerShapes: [LayerShape] {
        layers.map { v in
            let shape = network.graph.values[v].shape
            let (c, h, w) = shape.chw
            return LayerShape(channels: c, height: shape.rank == 2 ? 1 : h, width: shape.rank == 2 ? 1 : w,
                              fullyConnected: shape.rank == 2)
        }
    }

    /// Fills `snapshot` from the network's last forward pass (and projects the unit when a mode is
    /// selected). Throws when the selection does not fit the layer.
    ///
    /// With `project` false the snapshot's projection is left as it is (the caller reuses a recent
    /// one of the same unit: see `ProjectionCache`).
    public func fill(_ snapshot: VisualSnapshot, selection s: Selection, project: Bool = true) throws {
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
        network.materialize(v)
        snapshot.setActivations(UnsafeBufferPointer(network.buffer(v)), channels: c, height: h, width: w)
        snapshot.gridShowsGradient = false
        snapshot.layer = s.layer
        snapshot.fullyConnected = shape.rank == 2
        snapshot.channelLabels = (labels != nil && labels!.count == c && v == output) ? labels : nil
        snapshot.channel = s.channel
        snapshot.position = s.position.map { ($0.y, $0.x) }
        snapshot.receptiveField = receptiveFields[s.layer]

        fillTop(snapshot)

        // The projection: of the pinned origin when there is one, else of the selected unit.
        if let mode = s.mode {
            guard project else { return }   // the caller fills the projection
            let o = SnapshotBuilder.projected(s)
            let ov = layers[o.layer]
            let g = try projector.project(value: ov, channel: o.channel, at: o.position.map { ($0.y, $0.x) }, mode: mode)
            snapshot.withProjection(width: iw, height: ih) { out in
                renderer.render(UnsafeBufferPointer(g), height: ih, width: iw, bgr: e.bgr, filter: s.filter, into: out)
            }
            snapshot.projectionMode = mode
            snapshot.projectionFilter = s.filter
            snapshot.projectionLayer = o.layer
            snapshot.projectionChannel = o.channel
            snapshot.projectionPinned = s.origin != nil
            // The toolbox's back-prop view: the gradient arriving at the selected layer.
            if s.gridGradient && projector.reached(v) {
                snapshot.setActivations(UnsafeBufferPointer(projector.gradient(v)), channels: c, height: h, width: w)
                snapshot.gridShowsGradient = true
            }
        } else {
            snapshot.clearProjection()
        }
    }

    /// The unit a selection projects (its pinned origin, else the selected unit).
    public static func projected(_ s: Selection) -> Selection.Origin {
        s.origin ?? Selection.Origin(layer: s.layer, channel: s.channel, position: s.position)
    }

    /// The five best classes (softmax applied when the output is raw scores), without allocating.
    private func fillTop(_ snapshot: VisualSnapshot) {
        guard let o = output else { snapshot.top.removeAll(keepingCapacity: true); return }
        let n = best.withUnsafeMutableBufferPointer {
            TopClasses.write(UnsafeBufferPointer(network.buffer(o)), isProbability: outputIsProbability, into: $0)
        }
        snapshot.top.removeAll(keepingCapacity: true)
        for r in 0..<n {
            let (index, prob) = (best[r].index, best[r].probability)
            let label = labels.flatMap { index < $0.count ? $0[index] : nil } ?? "class \(index)"
            snapshot.top.append(TopEntry(index: index, label: label, prob: prob))
        }
    }
}
