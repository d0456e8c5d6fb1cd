import CBLAS
import Foundation

/// A graph planned for execution: every value (the input, constants and each node's output) has its
/// own region of one arena allocated here, once; `forward()` then runs the nodes in order and
/// allocates nothing. After a forward pass every layer's output stays readable until the next one.
///
/// An activation (Relu, Clip, LeakyRelu) that directly follows a convolution, and is the only
/// consumer of its output, is computed in the convolution's epilogue while the block is in cache,
/// and only the activation's output is written. The convolution's own (pre-activation) output is
/// recomputed when it is first read after a forward pass (`buffer(_:)` does it): the frame loop
/// never pays for tensors nobody looks at, and every layer stays readable.
public final class Network: @unchecked Sendable {
    public let graph: Graph
    public let pool: WorkerPool

    let arena: Arena
    let offsets: [Int]
    private let scratch: Arena
    private let scratchPerThread: Int
    private let steps: [Step]
    private let works: [Work]
    /// For each pre-activation value of a fused pair: the work that recomputes it alone.
    private let deferred: [Int: Work]
    /// Deferred values not yet recomputed since the last forward pass.
    private var stale: Set<Int> = []
    let switchArena: UnsafeMutablePointer<Int32>
    /// Per worker: which node's depthwise layout its scratch holds (-1: none), so zero borders
    /// are written once per layer, not once per channel.
    private let scratchTags: UnsafeMutablePointer<Int>
    /// Where each max-pool node's switches start in `switchArena` (nil for other nodes).
    let switchOffsets: [Int?]

    /// Floats of activation memory (all values), weights included.
    public var arenaBytes: Int { arena.capacity * 4 + scratch.capacity * 4 }

    private enum Kernel {
        case conv(ConvPlan, weight: Int, bias: Int, fused: FusedActivation?, fusedOutput: Int)
        case affine(scale: Int, shift: Int, channels: Int, inner: Int)
        case relu, clip(Float, Float), leakyRelu(Float), sigmoid, copy
        case maxPool(Window, c: Int, h: Int, w: Int, oh: Int, ow: Int)
        case averagePool(Window, Bool, c: Int, h: Int, w: Int, oh: Int, ow: Int)
        case globalAveragePool(planes: Int, size: Int)
        case lrn(LocalResponseNorm, n: Int, c: Int, plane: Int)
        case binary(BroadcastPlan, multiply: Bool)
        case concat(outer: Int, pieces: [(value: Int, size: Int)], total: Int)
        case dense(Dense, batch: Int, weight: Int, bias: Int)
        case softmax(outer: Int, length: Int, inner: Int)
        case pad(inDims: [Int], outDims: [Int], begins: [Int], value: Float)
    }

    private struct Step {
        let node: Int
        let inputs: [Int]     // arena offsets
        let output: Int       // arena offset
        let count: Int        // output elements
        let kernel: Kernel
    }

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
        var paramLayout: [(Int, [Float])] = []
        func param(_ data: [Float]) -> Int {
            let o = total
            paramLayout.append((o, data))
            total += Arena.aligned(data.count)
            return o
        }

        var consumers = [Int](repeating: 0, count: graph.values.count)
        for n in graph.nodes { for i in n.inputs { consumers[i] += 1 } }
        for o in graph.outputs { consumers[o] += 1 }

        var planned: [Step] = []
        var deferredSteps: [Int: Step] = [:]
        var maxScratch = 0
        var skip = Set<Int>()
        var switchOffs = [Int?](repeating: nil, count: graph.nodes.count)
        var switchTotal = 0
        for (ni, node) in graph.nodes.enumerated() where !skip.contains(ni) {
            let outShape = graph.values[node.output].shape
            let inShapes = node.inputs.map { graph.values[$0].shape }
            let kernel: Kernel
            switch node.op {
            case .conv(let c):
                let plan = ConvPlan(conv: c, input: inShapes[0], output: outShape, threads: threads)
                maxScratch = max(maxScratch, plan.scratchPerThread)
                var fused: FusedActivation?
                var fusedOutput = -1
                if ni + 1 < graph.nodes.count, consumers[node.output] == 1 {
                    let next = graph.nodes[ni + 1]
                    if next.inputs == [node.output] {
                        switch next.op {
                        case .relu: fused = .relu
                        case .clip(let lo, let hi): fused = .clip(lo: lo, hi: hi)
                        case .leakyRelu(let a): fused = .leakyRelu(alpha: a)
                        default: break
                        }
                        if fused != nil {
                            fusedOutput = offs[next.output]
                            skip.insert(ni + 1)
                            deferredSteps[node.output] = Step(
                                node: ni, inputs: node.inputs.map { offs[$0] }, output: offs[node.output],
                                count: outShape.count,
                                kernel: .conv(plan, weight: -1, bias: -1, fused: nil, fusedOutput: -1))
                        }
                    }
                }
                let w = param(plan.packedWeights()), b = param(c.bias)
                if let d = deferredSteps[node.output] {
                    deferredSteps[node.output] = Step(node: d.node, inputs: d.inputs, output: d.output, count: d.count,
                                                      kernel: .conv(plan, weight: w, bias: b, fused: nil, fusedOutput: -1))
                }
                kernel = .conv(plan, weight: w, bias: b, fused: fused, fusedOutput: fusedOutput)
            case .batchNorm(let scale, let shift):
                let s = inShapes[0]
                kernel = .affine(scale: param(scale), shift: param(shift), channels: s[1],
                                 inner: s.count / (s[0] * s[1]))
            case .relu: kernel = .relu
            case .clip(let lo, let hi): kernel = .clip(lo, hi)
            case .leakyRelu(let a): kernel = .leakyRelu(a)
            case .sigmoid: kernel = .sigmoid
            case .identity, .reshape: kernel = .copy
            case .maxPool(let w):
                let s = inShapes[0]
                kernel = .maxPool(w, c: s[0] * s[1], h: s[2], w: s[3], oh: outShape[2], ow: outShape[3])
                switchOffs[ni] = switchTotal
                switchTotal += outShape.count
            case .averagePool(let w, let inc):
                let s = inShapes[0]
                kernel = .averagePool(w, inc, c: s[0] * s[1], h: s[2], w: s[3], oh: outShape[2], ow: outShape[3])
            case .globalAveragePool:
                let s = inShapes[0]
                kernel = .globalAveragePool(planes: s[0] * s[1], size: s[2] * s[3])
            case .lrn(let p):
                let s = inShapes[0]
                kernel = .lrn(p, n: s[0], c: s[1], plane: s[2] * s[3])
            case .add, .mul:
                let isMul: Bool = { if case .mul = node.op { return true }; return false }()
                kernel = .binary(BroadcastPlan(a: inShapes[0], b: inShapes[1], out: outShape), multiply: isMul)
            case .concat(let axis):
                let outer = outShape.dims[..<axis].reduce(1, *)
                let pieces = zip(node.inputs, inShapes).map { (v, s) in (value: v, size: s.dims[axis...].reduce(1, *)) }
                kernel = .concat(outer: outer, pieces: pieces, total: outShape.dims[axis...].reduce(1, *))
            case .dense(let d):
                kernel = .dense(d, batch: outShape[0], weight: param(d.weight), bias: param(d.bias))
            case .softmax(let axis):
                let s = inShapes[0]
                kernel = .softmax(outer: s.dims[..<axis].reduce(1, *), length: s[axis],
                                  inner: s.dims[(axis + 1)...].reduce(1, *))
            case .pad(let b, _, let value):
                kernel = .pad(inDims: inShapes[0].dims, outDims: outShape.dims, begins: b, value: value)
            }
            planned.append(Step(node: ni, inputs: node.inputs.map { offs[$0] }, output: offs[node.output],
                                count: outShape.count, kernel: kernel))
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
        scratchPerThread = maxScratch
        scratch = Arena(capacity: maxScratch * pool.threadCount)
        switchArena = .allocate(capacity: max(switchTotal, 1))
        switchArena.initialize(repeating: -1, count: max(switchTotal, 1))
        switchOffsets = switchOffs
        scratchTags = .allocate(capacity: pool.threadCount)
        scratchTags.initialize(repeating: -1, count: pool.threadCount)
        offsets = offs
        steps = planned
        let addresses = Addresses(base: arena.base, offsets: offs, scratch: scratch.base,
                                  scratchPerThread: maxScratch, scratchTags: scratchTags,
                                  switches: switchArena, switchOffsets: switchOffs, threads: pool.threadCount)
        works = planned.map { Network.work(for: $0, addresses) }
        deferred = deferredSteps.mapValues { Network.work(for: $0, addresses) }
    }

    deinit {
        switchArena.deallocate()
        scratchTags.deallocate()
    }

    // MARK: - Buffers

    /// The network input, NCHW float32. Write it, then call `forward()`.
    public var input: UnsafeMutableBufferPointer<Float> { buffer(graph.input) }

    /// The current contents of a value (a layer's output after `forward()`). A convolution's
    /// pre-activation output is recomputed here on its first read after a forward pass.
    public func buffer(_ value: Int) -> UnsafeMutableBufferPointer<Float> {
        if !stale.isEmpty, stale.contains(value), let work = deferred[value] {
            stale.remove(value)
            pool.parallelFor(work.tasks, work.body)
        }
        return UnsafeMutableBufferPointer(start: arena.base + offsets[value], count: graph.values[value].shape.count)
    }

    /// Floats from the arena's start to the end of the last value's region (parameters follow).
    var valuesExtent: Int {
        graph.values.indices.map { offsets[$0] + Arena.aligned(graph.values[$0].shape.count) }.max() ?? 0
    }

    /// Whether reading `value` after a forward pass recomputes it (a fused convolution's output).
    public func isDeferred(_ value: Int) -> Bool { deferred[value] != nil }

    /// The output of the layer named `name`, or nil.
    public func buffer(named name: String) -> UnsafeMutableBufferPointer<Float>? {
        graph.value(named: name).map(buffer)
    }

    /// Max-pool switches of node `node` (flat y·w + x index into its input plane, per output
    /// element), recorded by the last forward pass; nil for other nodes.
    public func switches(ofNode node: Int) -> UnsafeBufferPointer<Int32>? {
        guard let o = switchOffsets[node] else { return nil }
        return UnsafeBufferPointer(start: switchArena + o, count: graph.values[graph.nodes[node].output].shape.count)
    }

    // MARK: - Forward

    /// Runs every node, in order.
    public func forward() {
        markDeferredStale()
        for work in works { pool.parallelFor(work.tasks, work.body) }
    }

    private func markDeferredStale() {
        // Refilling the set keeps its storage: no allocation once it has held every deferred value.
        for v in deferred.keys { stale.insert(v) }
    }

    /// Runs every node like `forward()`, calling `after(node)` when each step is done (a fused
    /// activation is computed by its convolution's step and gets no call of its own). For
    /// per-layer timing and allocation counts.
    public func forward(after: (_ node: Int) -> Void) {
        markDeferredStale()
        for (step, work) in zip(steps, works) {
            pool.parallelFor(work.tasks, work.body)
            after(step.node)
        }
    }

    /// Elements per task for flat elementwise loops.
    private static let flatChunk = 8192

    /// Flat loops over `count` elements in chunks of `flatChunk`.
    private static func flat(_ count: Int, _ body: @escaping (Int, Int) -> Void) -> Work {
        Work(tasks: (count + flatChunk - 1) / flatChunk) { t, _ in
            let s = t * flatChunk
            body(s, min(count, s + flatChunk))
        }
    }

    /// A step's work, split into tasks for the pool. Built once, when the network is planned:
    /// the closures capture only fixed addresses, so running them allocates nothing.
    struct Work {
        let tasks: Int
        let body: (_ task: Int, _ worker: Int) -> Void
    }

    /// Everything a step's closure may capture: addresses fixed for the network's lifetime.
    private struct Addresses {
        let base: UnsafeMutablePointer<Float>
        let offsets: [Int]
        let scratch: UnsafeMutablePointer<Float>
        let scratchPerThread: Int
        let scratchTags: UnsafeMutablePointer<Int>
        let switches: UnsafeMutablePointer<Int32>
        let switchOffsets: [Int?]
        let threads: Int
    }

    private static func work(for step: Step, _ at: Addresses) -> Work {
        let base = at.base
        let y = base + step.output
        let x = UnsafePointer(base + (step.inputs.first ?? step.output))
        switch step.kernel {
        case .conv(let plan, let w, let b, let fused, let fusedOutput):
            let scratchBase = at.scratch, per = at.scratchPerThread
            // Fused: the convolution writes the activation's buffer and applies it in place.
            let act = fused == nil ? nil : base + fusedOutput
            let out = act ?? y
            let tags = at.scratchTags, id = step.node
            return Work(tasks: plan.taskCount) { t, worker in
                plan.run(task: t, input: x, weight: base + w, bias: base + b, output: out,
                         activation: fused, activated: act, scratch: scratchBase + worker * per,
                         scratchTag: tags + worker, id: id)
            }
        case .affine(let s, let sh, let channels, let inner):
            let scale = base + s, shift = base + sh
            let planes = step.count / inner
            return Work(tasks: planes) { p, _ in
                let c = p % channels
                let a = scale[c], bb = shift[c]
                let xs = x + p * inner, ys = y + p * inner
                for i in 0..<inner { ys[i] = xs[i] * a + bb }
            }
        case .relu: return flat(step.count) { s, e in Elementwise.relu(x + s, y + s, e - s) }
        case .clip(let lo, let hi): return flat(step.count) { s, e in Elementwise.clip(x + s, y + s, e - s, lo: lo, hi: hi) }
        case .leakyRelu(let a): return flat(step.count) { s, e in Elementwise.leakyRelu(x + s, y + s, e - s, alpha: a) }
        case .sigmoid: return flat(step.count) { s, e in Elementwise.sigmoid(x + s, y + s, e - s) }
        case .copy:
            let n = step.count
            return Work(tasks: 1) { _, _ in y.update(from: x, count: n) }
        case .maxPool(let win, let c, let h, let w, let oh, let ow):
            let sw = at.switches + at.switchOffsets[step.node]!
            return Work(tasks: c) { p, _ in
                Pool.max(x + p * h * w, h: h, w: w, window: win, oh: oh, ow: ow, y + p * oh * ow,
                         switches: sw + p * oh * ow)
            }
        case .averagePool(let win, let inc, let c, let h, let w, let oh, let ow):
            return Work(tasks: c) { p, _ in
                Pool.average(x + p * h * w, h: h, w: w, window: win, countIncludePad: inc, oh: oh, ow: ow, y + p * oh * ow)
            }
        case .globalAveragePool(let planes, let size):
            let r = 1 / Float(size)
            return Work(tasks: (planes + 63) / 64) { t, _ in
                for p in (t * 64)..<min(planes, t * 64 + 64) {
                    var s: Float = 0
                    let xs = x + p * size
                    for i in 0..<size { s += xs[i] }
                    y[p] = s * r
                }
            }
        case .lrn(let prm, let n, let c, let plane):
            let chunk = 1024
            let per = (plane + chunk - 1) / chunk
            return Work(tasks: n * per) { t, _ in
                let img = t / per, s = (t % per) * chunk
                Normalization.lrn(x + img * c * plane, y + img * c * plane, channels: c, plane: plane,
                                  start: s, end: min(plane, s + chunk), prm)
            }
        case .binary(let plan, let multiply):
            let b = UnsafePointer(base + step.inputs[1])
            return flat(step.count) { s, e in plan.run(x, b, y, start: s, end: e, multiply: multiply) }
        case .concat(let outer, let pieces, let total):
            let offsets = at.offsets
            return Work(tasks: 1) { _, _ in
            for o in 0..<outer {
                var pos = 0
                for piece in pieces {
                    (y + o * total + pos).update(from: base + offsets[piece.value] + o * piece.size, count: piece.size)
                    pos += piece.size
                }
            }
            }
        case .dense(let d, let batch, let w, let b):
            let inF = d.inFeatures, outF = d.outFeatures
            if batch == 1 {
                // Split output features across threads: each computes a slice of W · x.
                let rows = d.outFeatures, chunk = max(64, (rows + at.threads * 4 - 1) / (at.threads * 4))
                return Work(tasks: (rows + chunk - 1) / chunk) { t, _ in
                    let r0 = t * chunk, n = min(chunk, rows - r0)
                    (y + r0).update(from: base + b + r0, count: n)
                    cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(inF), 1,
                                base + w + r0 * inF, Int32(inF), x, 1, 1, y + r0, 1)
                }
            } else {
                return Work(tasks: 1) { _, _ in
                    for i in 0..<batch { (y + i * outF).update(from: base + b, count: outF) }
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(batch), Int32(outF),
                                Int32(inF), 1, x, Int32(inF), base + w, Int32(inF), 1, y, Int32(outF))
                }
            }
        case .softmax(let outer, let length, let inner):
            return Work(tasks: outer * inner) { t, _ in
                let o = t / inner, i = t % inner
                Normalization.softmax(x + o * length * inner + i, y + o * length * inner + i, length: length, inner: inner)
            }
        case .pad(let inDims, let outDims, let begins, let value):
            // Copy innermost rows of the input into place.
            let rank = inDims.count
            let row = inDims[rank - 1]
            let rows = inDims.dropLast().reduce(1, *)
            let outStrides = Shape(outDims).strides
            let n = step.count
            return Work(tasks: 1) { _, _ in
            y.update(repeating: value, count: n)
            for r in 0..<rows {
                var rem = r, o = begins[rank - 1]
                for d in stride(from: rank - 2, through: 0, by: -1) {
                    let k = rem % inDims[d]; rem /= inDims[d]
                    o += (k + begins[d]) * outStrides[d]
                }
                (y + o).update(from: x + r * row, count: row)
            }
            }
        }
    }
}
