/// Projects units of a `Network` back onto its input.
///
/// Gradients live in an arena laid out like the network's values, allocated here once. Choosing a
/// new layer plans the backward pass (the nodes below that layer only, in reverse order, each a
/// closure built once by its op's backward rule) and may allocate; projecting any unit of a planned
/// layer, in any mode, allocates nothing. Call it after `network.forward()`: it reads that pass's
/// values and switches (and materializes the pre-activation outputs its rules read).
public final class Projector: @unchecked Sendable {
    public let network: Network
    private let grads: Arena
    private let scratch: Arena
    /// The mode of the running projection, read by the prebuilt backward closures.
    private let settings = ProjectionSettings()
    private let resources: BackwardResources
    private var plan: Plan?

    private struct Plan {
        let target: Int
        /// Backward work in execution order (the reverse of the forward order).
        let works: [Work]
        /// The node each work belongs to.
        let nodes: [Int]
        /// The values the pass reads (the seed's activation, the rules' activations), materialized
        /// before it starts.
        let reads: [Int]
        /// Every value whose gradient the pass computes (the target included).
        let reached: Set<Int>
    }

    public init(network: Network) {
        self.network = network
        grads = Arena(capacity: network.valuesExtent)
        let graph = network.graph
        let most = graph.nodes.map { node in
            node.op.rules.backwardScratch(input: graph.values[node.inputs[0]].shape,
                                          output: graph.values[node.output].shape)
        }.max() ?? 0
        scratch = Arena(capacity: most * network.pool.threadCount)
        resources = BackwardResources(scratch: scratch.base, scratchPerThread: most, threads: network.pool.threadCount)
    }

    /// The gradient arena's view of a value.
    public func gradient(_ value: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: grads.base + network.offsets[value],
                                   count: network.graph.values[value].shape.count)
    }

    /// Whether the last `project` computed `value`'s gradient (the value lies below the projected
    /// unit, or is it), so that `gradient(value)` holds this pass's numbers.
    public func reached(_ value: Int) -> Bool { plan?.reached.contains(value) ?? false }

    /// The projection onto the network input (NCHW, the input's shape), as left by `project`.
    public var inputGradient: UnsafeMutableBufferPointer<Float> { gradient(network.graph.input) }

    /// Checks a unit against its layer's shape.
    public func validate(value: Int, channel: Int, at position: (y: Int, x: Int)?) throws {
        let v = network.graph.values[value]
        let (c, h, w) = v.shape.chw
        guard channel >= 0 && channel < c else {
            throw ProjectionError.channelOutOfRange(layer: v.name, channel: channel, channels: c)
        }
        if let p = position, !(p.y >= 0 && p.y < h && p.x >= 0 && p.x < w) {
            throw ProjectionError.positionOutsideMap(layer: v.name, y: p.y, x: p.x, height: h, width: w)
        }
    }

    /// Projects unit (`value`, `channel`) onto the input and returns the input gradient.
    ///
    /// The seed is a 1 at (channel, y, x) when `position` is given, else the channel's own forward
    /// activation map (zero in every other channel). For a [N, K] output the seed is 1 at unit
    /// `channel` with a position (whose value is then ignored), or its activation without one.
    @discardableResult
    public func project(value: Int, channel: Int, at position: (y: Int, x: Int)?,
                        mode: ProjectionMode) throws -> UnsafeMutableBufferPointer<Float> {
        try project(value: value, channel: channel, at: position, mode: mode, after: nil)
    }

    /// `project`, calling `after(node)` when each node's backward step is done (for profiling).
    @discardableResult
    public func project(value: Int, channel: Int, at position: (y: Int, x: Int)?, mode: ProjectionMode,
                        after: ((_ node: Int) -> Void)?) throws -> UnsafeMutableBufferPointer<Float> {
        let shape = network.graph.values[value].shape
        // A fully connected output has no map: its position, if any, is ignored.
        try validate(value: value, channel: channel, at: shape.rank == 2 ? nil : position)
        if plan?.target != value { plan = makePlan(target: value) }
        let plan = plan!
        settings.mode = mode
        for v in plan.reads { network.materialize(v) }
        seed(value: value, channel: channel, at: position)
        for (work, node) in zip(plan.works, plan.nodes) {
            network.pool.parallelFor(work.tasks, work.body)
            after?(node)
        }
        return inputGradient
    }

    // MARK: - Seeding

    /// Clears the target's gradient and writes the contract's seed into it (batch item 0).
    private func seed(value: Int, channel: Int, at position: (y: Int, x: Int)?) {
        let shape = network.graph.values[value].shape
        let seed = gradient(value)
        seed.update(repeating: 0)
        let (_, h, w) = shape.chw
        if shape.rank == 2 {
            seed[channel] = position == nil ? network.buffer(value)[channel] : 1
        } else if let p = position {
            seed[channel * h * w + p.y * w + p.x] = 1
        } else {
            let act = network.buffer(value)
            for i in 0..<(h * w) { seed[channel * h * w + i] = act[channel * h * w + i] }
        }
    }

    // MARK: - Planning

    private func makePlan(target: Int) -> Plan {
        let graph = network.graph
        // Nodes below the target: walk producers back from it.
        var needed = Set<Int>()
        var stack = [target]
        while let v = stack.popLast() {
            guard let p = graph.values[v].producer, !needed.contains(p) else { continue }
            needed.insert(p)
            for i in graph.nodes[p].inputs where graph.values[i].constant == nil { stack.append(i) }
        }
        // The first step to write a gradient overwrites it (no buffer is cleared ahead of the
        // pass); later contributions add to it. Only the target's gradient (the seed) is cleared.
        var written = Set<Int>([target])
        var works: [Work] = []
        var owners: [Int] = []
        var reads = [target]
        for ni in needed.sorted(by: >) {
            let node = graph.nodes[ni]
            let first = node.inputs.map { v -> Bool in
                if graph.values[v].constant != nil { return false }
                return written.insert(v).inserted
            }
            // A node whose only input is a constant sends no gradient anywhere.
            if graph.values[node.inputs[0]].constant != nil && node.inputs.count == 1 { continue }
            let context = BackwardContext(node: ni, network: network, gradients: grads.base, first: first,
                                          settings: settings, resources: resources)
            let w = node.op.rules.backward(context)
            reads.append(contentsOf: context.reads)
            works.append(contentsOf: w)
            owners.append(contentsOf: Array(repeating: ni, count: w.count))
        }
        // Only a fused convolution's own output needs materializing; the others are no-ops.
        return Plan(target: target, works: works, nodes: owners,
                    reads: reads.filter(network.isPreActivation), reached: written)
    }
}
