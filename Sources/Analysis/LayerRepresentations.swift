import Engine

/// One layer of a network as a set of points: every image's output of that layer, flattened (C·H·W
/// coordinates per image), as Ansuini et al. measure the intrinsic dimension layer by layer.
public struct LayerSample: Sendable, Equatable {
    /// The ONNX output name.
    public let name: String
    /// The graph value.
    public let value: Int
    /// Relative depth: (position of the producing node in execution order + 1) / nodes, so the
    /// first layer is near 0 and the network's output is 1.
    public let depth: Double
    /// Coordinates per image.
    public let dimension: Int

    public init(name: String, value: Int, depth: Double, dimension: Int) {
        self.name = name
        self.value = value
        self.depth = depth
        self.dimension = dimension
    }

    /// Every node output of `graph`, in execution order.
    public static func all(in graph: Graph) -> [LayerSample] {
        graph.nodes.enumerated().map { k, node in
            let shape = graph.values[node.output].shape
            return LayerSample(name: graph.values[node.output].name, value: node.output,
                               depth: Double(k + 1) / Double(graph.nodes.count),
                               dimension: shape.count / max(shape.dims.first ?? 1, 1))
        }
    }

    /// Splits `layers` into groups whose representations of `images` images fit in `budget` bytes
    /// together, in order, so that a pass over the images collects one group (a layer larger than
    /// the budget on its own gets a group of its own).
    public static func passes(_ layers: [LayerSample], images: Int, budget: Int) -> [[LayerSample]] {
        var groups: [[LayerSample]] = []
        var current: [LayerSample] = [], bytes = 0
        for layer in layers {
            let need = layer.dimension * images * MemoryLayout<Float>.stride
            if !current.isEmpty && bytes + need > budget {
                groups.append(current)
                current = []
                bytes = 0
            }
            current.append(layer)
            bytes += need
        }
        if !current.isEmpty { groups.append(current) }
        return groups
    }
}

/// The representations of a group of layers over a set of images: one row per image, filled from the
/// network after each forward pass.
public final class Representations {
    public let layers: [LayerSample]
    public let rows: Int
    private var storage: [[Float]]

    public init(layers: [LayerSample], rows: Int) {
        self.layers = layers
        self.rows = rows
        storage = layers.map { [Float](repeating: 0, count: $0.dimension * rows) }
    }

    /// Copies every layer's current output (after `network.forward()`) into row `row`.
    public func record(row: Int, from network: Network) {
        precondition(row >= 0 && row < rows, "row \(row) outside 0..<\(rows)")
        for (k, layer) in layers.enumerated() {
            network.materialize(layer.value)
            let source = network.buffer(layer.value)
            let d = layer.dimension
            storage[k].withUnsafeMutableBufferPointer { out in
                for i in 0..<d { out[row * d + i] = source[i] }
            }
        }
    }

    /// Runs `body` on layer `k`'s points.
    public func withPoints<R>(of k: Int, _ body: (PointMatrix) throws -> R) rethrows -> R {
        try storage[k].withUnsafeBufferPointer { p in
            try body(PointMatrix(base: p.baseAddress!, count: rows, dimension: layers[k].dimension))
        }
    }
}

/// What the analysis reports for one set of points.
public struct DimensionReport: Sendable {
    /// The distinct points the estimates use.
    public var points: Int
    /// Rows equal to an earlier row, left out.
    public var duplicates: Int
    /// The TwoNN intrinsic dimension, or why there is none.
    public var intrinsic: Result<Double, TwoNN.Failure>
    /// Its standard deviation over random halves (nil below 20 points).
    public var spread: Double?
    /// Principal components holding 90% of the variance.
    public var pca90: Int

    /// TwoNN, its spread and the PCA spectrum of `points`, from one Gram matrix.
    public init(_ points: PointMatrix) {
        let gram = GramMatrix(points)
        let (distinct, duplicates) = points.distinctRows()
        self.points = distinct.count
        self.duplicates = duplicates
        do throws(TwoNN.Failure) {
            intrinsic = .success(try TwoNN.estimate(points, gram: gram, subset: distinct).dimension)
            spread = TwoNN.spread(points, gram: gram, subset: distinct)
        } catch {
            intrinsic = .failure(error)
            spread = nil
        }
        pca90 = PCASpectrum(gram: gram, subset: distinct).components(holding: 0.9)
    }
}
