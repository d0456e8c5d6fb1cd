/// The mode of the running projection, read by the prebuilt backward closures.
final class ProjectionSettings: @unchecked Sendable {
    var mode: ProjectionMode = .gradient
}

/// What an op's backward rule is planned with: the node's activations and gradients (fixed
/// addresses), which input gradients it overwrites, the projection mode and the projector's
/// scratch. Asking for an activation records it, so that the projector materializes every value a
/// rule reads before the pass starts (see `Network.materialize`).
final class BackwardContext {
    let node: Int
    /// The value indices of the node's inputs and output.
    let inputValues: [Int], outputValue: Int
    let inputShapes: [Shape], outputShape: Shape
    /// Per input: whether it is a constant (it gets no gradient).
    let isConstant: [Bool]
    /// Per input: whether this step is the first to write its gradient (overwrite, not add).
    let first: [Bool]
    /// The output's gradient.
    let gy: UnsafePointer<Float>
    /// Per input: its gradient.
    let gradients: [UnsafeMutablePointer<Float>]
    let settings: ProjectionSettings
    /// Max-pool switches of the forward pass (nil for other nodes).
    let switches: UnsafePointer<Int32>?
    let resources: BackwardResources
    private let activations: UnsafeMutablePointer<Float>
    private let offsets: [Int]
    /// The values whose activations the rule reads.
    private(set) var reads: [Int] = []

    init(node: Int, network: Network, gradients base: UnsafeMutablePointer<Float>, first: [Bool],
         settings: ProjectionSettings, resources: BackwardResources) {
        let graph = network.graph
        let n = graph.nodes[node]
        self.node = node
        inputValues = n.inputs
        outputValue = n.output
        inputShapes = n.inputs.map { graph.values[$0].shape }
        outputShape = graph.values[n.output].shape
        isConstant = n.inputs.map { graph.values[$0].constant != nil }
        self.first = first
        offsets = network.offsets
        gy = UnsafePointer(base + network.offsets[n.output])
        gradients = n.inputs.map { base + network.offsets[$0] }
        self.settings = settings
        switches = network.switchPointer(node: node).map { UnsafePointer($0) }
        self.resources = resources
        activations = network.arena.base
    }

    /// The first input's gradient, and whether this step overwrites it.
    var gx: UnsafeMutablePointer<Float> { gradients[0] }
    var set: Bool { first[0] }
    /// Elements of the output.
    var count: Int { outputShape.count }
    var inputShape: Shape { inputShapes[0] }

    /// The rule of a smooth elementwise op, the same in every mode: gx = gy · f′, with the
    /// derivative `derivative(y)` taken at the forward output.
    func localDerivative(_ derivative: @escaping (Float) -> Float) -> Work {
        let gx = gx, gy = gy, y = output, set = set
        return Work.flat(count) { s, e in for i in s..<e { put(gx + i, gy[i] * derivative(y[i]), set) } }
    }

    /// The forward activation of input `i`.
    func input(_ i: Int) -> UnsafePointer<Float> {
        reads.append(inputValues[i])
        return UnsafePointer(activations + offsets[inputValues[i]])
    }

    /// The forward activation of the output.
    var output: UnsafePointer<Float> {
        reads.append(outputValue)
        return UnsafePointer(activations + offsets[outputValue])
    }
}

/// The projector's memory that backward rules share: per-thread scratch, copies of weights the
/// closures read, and transposed weights packed once per node.
final class BackwardResources {
    let scratch: UnsafeMutablePointer<Float>
    let scratchPerThread: Int
    /// Which layout each worker's scratch holds, for the depthwise kernel (see `ConvPlan`).
    let scratchTags: UnsafeMutablePointer<Int>
    let threads: Int
    private var retained: [UnsafeMutablePointer<Float>] = []
    private var packed: [Int: [Float]] = [:]

    init(scratch: UnsafeMutablePointer<Float>, scratchPerThread: Int, threads: Int) {
        self.scratch = scratch
        self.scratchPerThread = scratchPerThread
        self.threads = threads
        scratchTags = .allocate(capacity: threads)
        scratchTags.initialize(repeating: -1, count: threads)
    }

    deinit {
        for b in retained { b.deallocate() }
        scratchTags.deallocate()
    }

    /// A copy of `data` followed by `zeros` zeros, freed with the projector.
    func retain(_ data: [Float], zeros: Int = 0) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, data.count + zeros))
        p.initialize(from: data, count: data.count)
        (p + data.count).initialize(repeating: 0, count: zeros)
        retained.append(p)
        return p
    }

    /// Node `node`'s packed weights, made by `make` on first use.
    func packed(node: Int, _ make: () -> [Float]) -> [Float] {
        if let p = packed[node] { return p }
        let p = make()
        packed[node] = p
        return p
    }
}

/// dst[i] = value(i) (`set`) or dst[i] += value(i), for i in s..<e: two plain loops the compiler
/// vectorizes, rather than one loop that tests `set` per element.
@inline(__always) func store(_ dst: UnsafeMutablePointer<Float>, _ s: Int, _ e: Int, _ set: Bool,
                             _ value: (Int) -> Float) {
    if set {
        for i in s..<e { dst[i] = value(i) }
    } else {
        for i in s..<e { dst[i] += value(i) }
    }
}

/// Writes (`set`) or adds `v` at `p`.
@inline(__always) func put(_ p: UnsafeMutablePointer<Float>, _ v: Float, _ set: Bool) {
    p.pointee = set ? v : p.pointee + v
}
