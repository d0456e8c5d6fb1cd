import CBLAS
import Foundation

/// A graph planned for execution: every value (the input, constants and each node's output) has its
/// own region of one arena allocated here, once; `forward()` then runs the nodes in order and
/// allocates nothing. After a forward pass every layer's output stays readable until the next one.
///
/// An activation (Relu, Clip, LeakyRelu) that directly follows a convolution, and is the only
/// consumer of its output, is computed in the convolution's epilogue while the block is in cache,
/// and only the activation's output is written: the frame loop never pays for tensors nobody
/// looks at. The convolution's own (pre-activation) output is a planned step of its own, which
/// runs only when a reader asks for it with `materialize(_:)` (the projector, the layer a window
/// shows, `forward --dump`); reading a buffer never computes anything.
public final class Network: @unchecked Sendable {
    public let graph: Graph
    public let pool: WorkerPool

    let arena: Arena
    let offsets: [Int]
    private let scratch: Arena
    /// The forward steps in order: the node each belongs to and its work.
    private let steps: [(node: Int, work: Work)]
    /// For each fused convolution's own output (by value): the planned step that writes it.
    private let preActivationSteps: [Int: Work]
    /// The same values, in a list, and whether each is still unwritten since the last forward pass
    /// (by value index; false for every other value).
    private let preActivations: [Int]
    private var unwritten: [Bool]
    private let switchArena: UnsafeMutablePointer<Int32>
    /// Per worker: which node's depthwise layout its scratch holds (-1: none), so zero borders
    /// are written once per layer, not once per channel.
    private let scratchTags: UnsafeMutablePointer<Int>
    /// Where each max-pool node's switches start in `switchArena` (nil for other nodes).
    private let switchOffsets: [Int?]

    /// Floats of activation memory (all values), weights included.
    public var arenaBytes: Int { arena.capacity * 4 + scratch.capacity * 4 }

    /// Plans `graph` for `threads` threads (default: the machine's active cores).
    public init(graph: Graph, threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.graph = graph
        pool = WorkerPool(threads: threads)
        // We split work across our own threads; OpenBLAS runs single-threaded inside each task.
        openblas_set_num_threads(1)

        // Lay out values, then parameters.
        var offs = [Int](repeating: 0, count: graph.values.count)
        var total = 0
        for (i, v) in graph.values.enumerated() {
            offs[i] = total
            total += Arena.aligned(v.shape.count)
        }
        var consumers = [Int](repeating: 0, count: graph.values.count)
        for n in graph.nodes { for i in n.inputs { consumers[i] += 1 } }
        for o in graph.outputs { consumers[o] += 1 }

        // Plan every step; an activation fused into the convolution before it gets none.
        struct Planned { let node: Int; let plan: ForwardPlan; let parameters: [Int]; let switches: Int?
                         let epilogue: (activation: FusedActivation, output: Int)? }
        var planned: [Planned] = []
        var paramLayout: [(Int, [Float])] = []
        var maxScratch = 0
        var switchTotal = 0
        var switchOffs = [Int?](repeating: nil, count: graph.nodes.count)
        var fusedAway = Set<Int>()
        for (ni, node) in graph.nodes.enumerated() where !fusedAway.contains(ni) {
            let op = node.op.rules
            let plan = op.forward(ForwardContext(node: ni, inputs: node.inputs.map { graph.values[$0].shape },
                                                 output: graph.values[node.output].shape, threads: threads))
            var epilogue: (activation: FusedActivation, output: Int)?
            if op.acceptsEpilogue, ni + 1 < graph.nodes.count, consumers[node.output] == 1 {
                let next = graph.nodes[ni + 1]
                if next.inputs == [node.output], let e = next.op.rules.epilogue {
                    epilogue = (e, next.output)
                    fusedAway.insert(ni + 1)
                }
            }
            let params = plan.parameters.map { data -> Int in
                paramLayout.append((total, data))
                defer { total += Arena.aligned(data.count) }
                return total
            }
            if plan.switches > 0 {
                switchOffs[ni] = switchTotal
                switchTotal += plan.switches
            }
            maxScratch = max(maxScratch, plan.scratchPerThread)
            planned.append(Planned(node: ni, plan: plan, parameters: params, switches: switchOffs[ni], epilogue: epilogue))
        }

        let arena = Arena(capacity: total)
        for (i, v) in graph.values.enumerated() {
            if let data = v.constant {
                data.withUnsafeBufferPointer { arena.base.advanced(by: offs[i]).update(from: $0.baseAddress!, count: data.count) }
            }
        }
        for (o, data) in paramLayout {
            data.withUnsafeBufferPointer { arena.base.advanced(by: o).update(from: $0.baseAddress!, count: data.count) }
        }
        self.arena = arena
        scratch = Arena(capacity: maxScratch * pool.threadCount)
        switchArena = .allocate(capacity: max(switchTotal, 1))
        switchArena.initialize(repeating: -1, count: max(switchTotal, 1))
        switchOffsets = switchOffs
        scratchTags = .allocate(capacity: pool.threadCount)
        scratchTags.initialize(repeating: -1, count: pool.threadCount)
        offsets = offs

        // Build each step's work over the arena's addresses.
        let base = arena.base, switchBase = switchArena, scratchBase = scratch.base
        let tags = scratchTags, threadCount = pool.threadCount
        var steps: [(node: Int, work: Work)] = []
        var preActivationSteps: [Int: Work] = [:]
        for p in planned {
            let node = graph.nodes[p.node]
            func binding(epilogue: (activation: FusedActivation, output: UnsafeMutablePointer<Float>)?) -> ForwardBinding {
                ForwardBinding(node: p.node, inputs: node.inputs.map { UnsafePointer(base + offs[$0]) },
                               output: base + offs[node.output], parameters: p.parameters.map { base + $0 },
                               switches: p.switches.map { switchBase + $0 }, scratch: scratchBase,
                               scratchPerThread: maxScratch, scratchTags: tags, threads: threadCount,
                               epilogue: epilogue)
            }
            steps.append((p.node, p.plan.build(binding(epilogue: p.epilogue.map { ($0.activation, base + offs[$0.output]) }))))
            if p.epilogue != nil { preActivationSteps[node.output] = p.plan.build(binding(epilogue: nil)) }
        }
        self.steps = steps
        self.preActivationSteps = preActivationSteps
        preActivations = preActivationSteps.keys.sorted()
        unwritten = [Bool](repeating: false, count: graph.values.count)
    }

    deinit {
        switchArena.deallocate()
        scratchTags.deallocate()
    }

    // MARK: - Buffers

    /// The network input, NCHW float32. Write it, then call `forward()`.
    public var input: UnsafeMutableBufferPointer<Float> { buffer(graph.input) }

    /// The region of a value (a layer's output after `forward()`). Reading it computes nothing: a
    /// fused convolution's pre-activation output holds this pass's numbers only after
    /// `materialize(_:)`.
    public func buffer(_ value: Int) -> UnsafeMutableBufferPointer<Float> {
        assert(!unwritten[value], "'\(graph.values[value].name)' is a fused convolution's output that the last forward pass did not write: materialize(_:) it before reading")
        return UnsafeMutableBufferPointer(start: arena.base + offsets[value], count: graph.values[value].shape.count)
    }

    /// The output of the layer named `name`, or nil.
    public func buffer(named name: String) -> UnsafeMutableBufferPointer<Float>? {
        graph.value(named: name).map(buffer)
    }

    /// Makes `value` hold the last forward pass's numbers: a fused convolution's pre-activation
    /// output, which the pass left unwritten, is computed by its own planned step (once per pass);
    /// any other value already does, and nothing runs. Call it from the thread that runs
    /// `forward()`, before reading the value, never from inside a pool task.
    public func materialize(_ value: Int) {
        guard unwritten[value], let work = preActivationSteps[value] else { return }
        pool.parallelFor(work.tasks, work.body)
        unwritten[value] = false
    }

    /// `materialize(_:)` every value: for readers of every layer (`forward --dump`, tests).
    public func materializeAll() {
        for v in preActivations { materialize(v) }
    }

    /// Whether `value` is a fused convolution's own output, which `forward()` leaves to
    /// `materialize(_:)`.
    public func isPreActivation(_ value: Int) -> Bool { preActivationSteps[value] != nil }

    /// Floats from the arena's start to the end of the last value's region (parameters follow).
    var valuesExtent: Int {
        graph.values.indices.map { offsets[$0] + Arena.aligned(graph.values[$0].shape.count) }.max() ?? 0
    }

    /// Max-pool switches of node `node` (flat y·w + x index into its input plane, per output
    /// element), recorded by the last forward pass; nil for other nodes.
    public func switches(ofNode node: Int) -> UnsafeBufferPointer<Int32>? {
        guard let p = switchPointer(node: node) else { return nil }
        return UnsafeBufferPointer(start: p, count: graph.values[graph.nodes[node].output].shape.count)
    }

    /// Where node `node`'s switches start, or nil for a node that records none.
    func switchPointer(node: Int) -> UnsafeMutablePointer<Int32>? { switchOffsets[node].map { switchArena + $0 } }

    // MARK: - Forward

    /// Runs every node, in order.
    public func forward() {
        markPreActivationsUnwritten()
        for step in steps { pool.parallelFor(step.work.tasks, step.work.body) }
    }

    /// Runs every node like `forward()`, calling `after(node)` when each step is done (a fused
    /// activation is computed by its convolution's step and gets no call of its own). For
    /// per-layer timing and allocation counts.
    public func forward(after: (_ node: Int) -> Void) {
        markPreActivationsUnwritten()
        for step in steps {
            pool.parallelFor(step.work.tasks, step.work.body)
            after(step.node)
        }
    }

    private func markPreActivationsUnwritten() {
        for v in preActivations { unwritten[v] = true }
    }
}
