import CBLAS
import Foundation

/// How a unit's activation is carried back to the input pixels.
///
/// The three modes are a contract (other tools compare against them). Each is a backward pass from
/// the unit's seed to the input through every op; they differ only at the rectifiers:
///
/// | op | `gradient` | `deconv` (Zeiler & Fergus 2014) | `guided` (Springenberg et al. 2014) |
/// |---|---|---|---|
/// | Relu | g·[x > 0] | max(g, 0) | g·[x > 0]·[g > 0] |
/// | Clip(lo, hi) | g·[lo < x < hi] | max(g, 0) if lo = 0, else g·[lo < x < hi] | g·[lo < x < hi]·[g > 0] |
/// | LeakyRelu(a) | g·(x > 0 ? 1 : a) | g > 0 ? g : a·g | g·[g > 0]·(x > 0 ? 1 : a) |
///
/// Every other op uses its true local gradient, the same in all three modes:
/// - Conv (BatchNormalization folded in, or standalone as a per-channel scale): the transposed
///   convolution with the same weights;
/// - MaxPool: through the switches of the forward pass (the first maximum of each window in
///   row-major order, also when the window is all equal; padding and ceil-mode overhang never win);
/// - AveragePool spreads evenly over the positions its forward divisor counted; GlobalAveragePool
///   over the whole plane;
/// - Add passes the gradient to both inputs (summed over broadcast dimensions); Mul scales it by the
///   other input; Concat routes each slice back to its input; Pad crops; Reshape, Flatten, Dropout
///   and Identity pass it through;
/// - LRN, Sigmoid and Softmax use their local derivative at the forward values; Gemm multiplies by
///   the transposed weights.
///
/// Where a tensor feeds several ops, their contributions are summed before its producer is
/// processed.
public enum ProjectionMode: String, CaseIterable, Sendable {
    case deconv, guided, gradient
}

/// Why a projection cannot start: one sentence naming the valid range.
public enum ProjectionError: Error, CustomStringConvertible, Equatable {
    case unknownLayer(String)
    case channelOutOfRange(layer: String, channel: Int, channels: Int)
    case positionOutsideMap(layer: String, y: Int, x: Int, height: Int, width: Int)

    public var description: String {
        switch self {
        case .unknownLayer(let name):
            return "The model has no layer named '\(name)'; `deepscope inspect` lists them."
        case .channelOutOfRange(let layer, let c, let n):
            return "Layer '\(layer)' has channels 0 to \(n - 1); \(c) is out of range."
        case .positionOutsideMap(let layer, let y, let x, let h, let w):
            return "Position \(y),\(x) is outside layer '\(layer)', whose map is \(h)×\(w) (Y from 0 to \(h - 1), X from 0 to \(w - 1))."
        }
    }
}

/// Projects units of a `Network` back onto its input.
///
/// Gradients live in an arena laid out like the network's values, allocated here once. Choosing a
/// new layer plans the backward pass (the nodes below that layer only, in reverse order, each a
/// closure built once) and may allocate; projecting any unit of a planned layer, in any mode,
/// allocates nothing. Call it after `network.forward()`: it reads that pass's values and switches.
public final class Projector: @unchecked Sendable {
    public let network: Network
    private let grads: Arena
    private let scratch: Arena
    private let scratchPerThread: Int
    /// The mode of the running projection, read by the prebuilt backward closures.
    private let settings = Settings()
    /// Transposed, packed convolution weights per node, built on first use.
    private var packedTransposed: [Int: [Float]] = [:]
    private var plan: Plan?

    private final class Settings: @unchecked Sendable {
        var mode: ProjectionMode = .gradient
    }

    private struct Plan {
        let target: Int
        /// Backward work in execution order (the reverse of the forward order).
        let works: [Network.Work]
        /// The node each work belongs to.
        let nodes: [Int]
        /// Deferred values (fused convolutions' outputs) the backward steps read, recomputed
        /// before the pass starts, never from inside a step's tasks.
        let reads: [Int]
        /// Every value whose gradient the pass computes (the target included).
        let reached: Set<Int>
    }

    /// Column chunk of the transposed-convolution GEMM.
    private static let colChunk = 256

    public init(network: Network) {
        self.network = network
        grads = Arena(capacity: network.valuesExtent)
        // Scratch per thread: one column chunk of a channel's im2col rows plus GEMM packing, or a
        // stride-1 depthwise layer's padded plane plus one output plane.
        var most = 0
        for node in network.graph.nodes {
            guard case .conv(let c) = node.op else { continue }
            let kk = c.window.kernelH * c.window.kernelW
            most = max(most, Arena.aligned(kk * Projector.colChunk) + Arena.aligned(Gemm.packedBCount(ncols: Projector.colChunk)))
            let input = network.graph.values[node.inputs[0]].shape
            if let t = Projector.transposedDepthwise(c, input: input, output: network.graph.values[node.output].shape) {
                most = max(most, t.plan.scratchPerThread + Arena.aligned(input[2] * input[3]))
            }
        }
        scratchPerThread = most
        scratch = Arena(capacity: most * network.pool.threadCount)
        scratchTags = .allocate(capacity: network.pool.threadCount)
        scratchTags.initialize(repeating: -1, count: network.pool.threadCount)
    }

    /// Which layout each worker's scratch holds, for the depthwise kernel (see `ConvPlan`).
    private let scratchTags: UnsafeMutablePointer<Int>

    /// A stride-1 depthwise convolution's transpose is itself a depthwise convolution of the output
    /// gradient: the kernel flipped, each pad p becoming (k − 1)·d − p. Planned like a forward layer,
    /// it runs on the forward pass's vectorized kernel. Nil for strided layers or unusual pads.
    static func transposedDepthwise(_ conv: Convolution, input: Shape, output: Shape) -> (plan: ConvPlan, weight: [Float])? {
        let win = conv.window
        let c = input[1]
        guard conv.inChannelsPerGroup == 1, conv.groups == c, conv.outChannels == c,
              win.strideH == 1, win.strideW == 1 else { return nil }
        let spanH = (win.kernelH - 1) * win.dilationH, spanW = (win.kernelW - 1) * win.dilationW
        let t = Window(kernelH: win.kernelH, kernelW: win.kernelW, dilationH: win.dilationH, dilationW: win.dilationW,
                       padTop: spanH - win.padTop, padLeft: spanW - win.padLeft,
                       padBottom: spanH - win.padBottom, padRight: spanW - win.padRight)
        guard t.padTop >= 0, t.padLeft >= 0, t.padBottom >= 0, t.padRight >= 0,
              let size = t.outputSize(h: output[2], w: output[3]), size.h == input[2], size.w == input[3] else { return nil }
        let kk = win.kernelH * win.kernelW
        var flipped = [Float](repeating: 0, count: conv.weight.count)
        for ch in 0..<c {
            for k in 0..<kk { flipped[ch * kk + k] = conv.weight[ch * kk + (kk - 1 - k)] }
        }
        let transposed = Convolution(window: t, groups: c, outChannels: c, inChannelsPerGroup: 1, weight: flipped, bias: nil)
        let plan = ConvPlan(conv: transposed, input: output, output: input, threads: 1)
        return (plan, flipped)
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
        (grads.base + network.offsets[value]).update(repeating: 0, count: shape.count)
        // Seed (batch item 0).
        let (_, h, w) = shape.chw
        let seed = gradient(value)
        if shape.rank == 2 {
            seed[channel] = position == nil ? network.buffer(value)[channel] : 1
        } else if let p = position {
            seed[channel * h * w + p.y * w + p.x] = 1
        } else {
            let act = network.buffer(value)
            for i in 0..<(h * w) { seed[channel * h * w + i] = act[channel * h * w + i] }
        }
        for v in plan.reads { _ = network.buffer(v) }
        for (work, node) in zip(plan.works, plan.nodes) {
            network.pool.parallelFor(work.tasks, work.body)
            after?(node)
        }
        return inputGradient
    }

    // MARK: - Planning

    private func makePlan(target: Int) -> Plan {
        let graph = network.graph
        // Nodes below the target: walk producers back from it.
        var needed = Set<Int>()
        var stack = [target]
        var touched = Set<Int>([target])
        while let v = stack.popLast() {
            guard let p = graph.values[v].producer, !needed.contains(p) else { continue }
            needed.insert(p)
            for i in graph.nodes[p].inputs where graph.values[i].constant == nil {
                touched.insert(i)
                stack.append(i)
            }
        }
        // The first step to write a gradient overwrites it (no buffer is cleared ahead of the
        // pass); later contributions add to it. Only the target's gradient (the seed) is cleared.
        var written = Set<Int>([target])
        var works: [Network.Work] = []
        var owners: [Int] = []
        for ni in needed.sorted(by: >) {
            let first = graph.nodes[ni].inputs.map { v -> Bool in
                if graph.values[v].constant != nil { return false }
                return written.insert(v).inserted
            }
            let w = backward(node: ni, first: first)
            works.append(contentsOf: w)
            owners.append(contentsOf: Array(repeating: ni, count: w.count))
        }
        _ = touched
        // A LeakyRelu with a negative slope reads its input, which may be a fused convolution's
        // output that the forward pass left to be recomputed.
        var reads: [Int] = []
        for ni in needed.sorted() {
            if case .leakyRelu(let a) = graph.nodes[ni].op, a < 0, network.isDeferred(graph.nodes[ni].inputs[0]) {
                reads.append(graph.nodes[ni].inputs[0])
            }
        }
        return Plan(target: target, works: works, nodes: owners, reads: reads, reached: written)
    }

    /// The backward work of one node: the node's input gradients from its output gradient,
    /// overwriting input `i`'s gradient when `first[i]` (no earlier step wrote it), else adding.
    private func backward(node ni: Int, first: [Bool]) -> [Network.Work] {
        let set = first.first ?? false
        let net = network
        let graph = net.graph
        let node = graph.nodes[ni]
        let settings = self.settings
        let G = grads.base
        let A = net.arena.base
        let offs = net.offsets
        let yv = node.output
        let outShape = graph.values[yv].shape
        let count = outShape.count
        let gy = UnsafePointer(G + offs[yv])
        let y = UnsafePointer(A + offs[yv])
        let xv = node.inputs.first!
        let xIsConstant = graph.values[xv].constant != nil
        let gx = G + offs[xv]
        let inShape = graph.values[xv].shape
        let serial = { (body: @escaping () -> Void) -> Network.Work in Network.Work(tasks: 1) { _, _ in body() } }
        let chunk = 8192
        let flat = { (n: Int, body: @escaping (Int, Int) -> Void) -> Network.Work in
            Network.Work(tasks: (n + chunk - 1) / chunk) { t, _ in body(t * chunk, min(n, t * chunk + chunk)) }
        }
        if xIsConstant && node.inputs.count == 1 { return [] }

        switch node.op {
        case .conv(let conv):
            return [convBackward(node: ni, conv: conv, input: inShape, output: outShape, gx: gx, gy: gy, set: set)]

        case .batchNorm(let scale, let shift):
            _ = shift
            let channels = scale.count, inner = count / (outShape[0] * channels)
            let s = scale
            return [serial {
                s.withUnsafeBufferPointer { sc in
                    for p in 0..<(count / inner) {
                        let a = sc[p % channels]
                        for i in 0..<inner { put(gx + p * inner + i, gy[p * inner + i] * a, set) }
                    }
                }
            }]

        case .relu:
            return [flat(count) { s, e in
                switch settings.mode {
                case .gradient: store(gx, s, e, set) { i in y[i] > 0 ? gy[i] : 0 }
                case .deconv: store(gx, s, e, set) { i in gy[i] > 0 ? gy[i] : 0 }
                case .guided: store(gx, s, e, set) { i in y[i] > 0 && gy[i] > 0 ? gy[i] : 0 }
                }
            }]

        case .clip(let lo, let hi):
            // lo < x < hi exactly when lo < y < hi (y = clip(x)), so the mask needs only the output.
            return [flat(count) { s, e in
                switch settings.mode {
                case .deconv where lo == 0:
                    store(gx, s, e, set) { i in gy[i] > 0 ? gy[i] : 0 }
                case .gradient, .deconv:
                    store(gx, s, e, set) { i in y[i] > lo && y[i] < hi ? gy[i] : 0 }
                case .guided:
                    store(gx, s, e, set) { i in y[i] > lo && y[i] < hi && gy[i] > 0 ? gy[i] : 0 }
                }
            }]

        case .leakyRelu(let a):
            // For a ≥ 0, x > 0 exactly when y > 0; otherwise the input itself is read.
            // (`project` recomputes a deferred input before the pass: see `Plan.reads`.)
            let xs = a >= 0 ? y : UnsafePointer(A + offs[xv])
            return [flat(count) { s, e in
                switch settings.mode {
                case .gradient: for i in s..<e { put(gx + i, xs[i] > 0 ? gy[i] : a * gy[i], set) }
                case .deconv: for i in s..<e { let g = gy[i]; put(gx + i, g > 0 ? g : a * g, set) }
                case .guided: for i in s..<e { put(gx + i, gy[i] > 0 ? (xs[i] > 0 ? gy[i] : a * gy[i]) : 0, set) }
                }
            }]

        case .sigmoid:
            return [flat(count) { s, e in for i in s..<e { put(gx + i, gy[i] * y[i] * (1 - y[i]), set) } }]

        case .identity, .reshape:
            return [flat(count) { s, e in store(gx, s, e, set) { i in gy[i] } }]

        case .maxPool:
            let sw = UnsafePointer(net.switchArena + net.switchOffsets[ni]!)
            let planes = outShape[0] * outShape[1]
            let outPlane = outShape[2] * outShape[3], inPlane = inShape[2] * inShape[3]
            return [Network.Work(tasks: planes) { p, _ in
                if set { (gx + p * inPlane).update(repeating: 0, count: inPlane) }
                for i in 0..<outPlane {
                    let k = Int(sw[p * outPlane + i])
                    if k >= 0 { gx[p * inPlane + k] += gy[p * outPlane + i] }
                }
            }]

        case .averagePool(let win, let includePad):
            let planes = outShape[0] * outShape[1]
            let (h, w, oh, ow) = (inShape[2], inShape[3], outShape[2], outShape[3])
            return [Network.Work(tasks: planes) { p, _ in
                let gxp = gx + p * h * w, gyp = gy + p * oh * ow
                if set { gxp.update(repeating: 0, count: h * w) }
                for oy in 0..<oh {
                    let y0 = oy * win.strideH - win.padTop
                    for ox in 0..<ow {
                        let x0 = ox * win.strideW - win.padLeft
                        // The forward divisor: positions inside the input, or inside the padded input.
                        var inside = 0, padded = 0
                        for ky in 0..<win.kernelH {
                            let iy = y0 + ky * win.dilationH
                            if iy >= h + win.padBottom { break }
                            for kx in 0..<win.kernelW {
                                let ix = x0 + kx * win.dilationW
                                if ix >= w + win.padRight { break }
                                padded += 1
                                if iy >= 0 && iy < h && ix >= 0 && ix < w { inside += 1 }
                            }
                        }
                        let n = includePad ? padded : inside
                        guard n > 0 else { continue }
                        let share = gyp[oy * ow + ox] / Float(n)
                        for ky in 0..<win.kernelH {
                            let iy = y0 + ky * win.dilationH
                            if iy < 0 || iy >= h { continue }
                            for kx in 0..<win.kernelW {
                                let ix = x0 + kx * win.dilationW
                                if ix >= 0 && ix < w { gxp[iy * w + ix] += share }
                            }
                        }
                    }
                }
            }]

        case .globalAveragePool:
            let planes = inShape[0] * inShape[1], size = inShape[2] * inShape[3]
            let r = 1 / Float(size)
            return [Network.Work(tasks: planes) { p, _ in
                let g = gy[p] * r
                for i in 0..<size { put(gx + p * size + i, g, set) }
            }]

        case .lrn(let prm):
            // y_c = x_c·d_c^−β with d_c = bias + α/n·Σ_{j∈N(c)} x_j², so
            // ∂L/∂x_j = g_j·d_j^−β − (2αβ/n)·x_j·Σ_{c: j∈N(c)} g_c·x_c·d_c^(−β−1).
            let x = UnsafePointer(A + offs[xv])
            let (n, c, plane) = (inShape[0], inShape[1], inShape[2] * inShape[3])
            let before = (prm.size - 1) / 2, after = prm.size - 1 - before
            let k = prm.alpha / Float(prm.size)
            return [Network.Work(tasks: n * plane) { t, _ in
                let img = t / plane, i = t % plane
                let xs = x + img * c * plane + i, gys = gy + img * c * plane + i, gxs = gx + img * c * plane + i
                func d(_ ch: Int) -> Float {
                    var s: Float = 0
                    for j in max(0, ch - before)...min(c - 1, ch + after) { s += xs[j * plane] * xs[j * plane] }
                    return prm.bias + k * s
                }
                for j in 0..<c {
                    var acc: Float = 0
                    // Channels whose window contains j: ch − before ≤ j ≤ ch + after.
                    for ch in max(0, j - after)...min(c - 1, j + before) {
                        let dc = d(ch)
                        acc += gys[ch * plane] * xs[ch * plane] * powf(dc, -prm.beta - 1)
                    }
                    put(gxs + j * plane, gys[j * plane] * powf(d(j), -prm.beta) - 2 * k * prm.beta * xs[j * plane] * acc, set)
                }
            }]

        case .add, .mul:
            let isMul: Bool = { if case .mul = node.op { return true }; return false }()
            let av = node.inputs[0], bv = node.inputs[1]
            let aShape = graph.values[av].shape, bShape = graph.values[bv].shape
            let aConst = graph.values[av].constant != nil, bConst = graph.values[bv].constant != nil
            let ga = G + offs[av], gb = G + offs[bv]
            let a = UnsafePointer(A + offs[av]), b = UnsafePointer(A + offs[bv])
            let plan = BroadcastPlan(a: aShape, b: bShape, out: outShape)
            let setA = first[0], setB = first[1]
            if !isMul && av != bv && aShape.count == count && bShape.count == count {
                // The residual case: the gradient passes unchanged to both inputs.
                return [flat(count) { s, e in
                    if !aConst { store(ga, s, e, setA) { i in gy[i] } }
                    if !bConst { store(gb, s, e, setB) { i in gy[i] } }
                }]
            }
            return [serial {
                // A broadcast operand sums over several outputs: clear it first, then add.
                if setA { ga.update(repeating: 0, count: aShape.count) }
                if setB && !(bv == av) { gb.update(repeating: 0, count: bShape.count) }
                for i in 0..<count {
                    let (ia, ib) = plan.sourceIndices(i)
                    let g = gy[i]
                    if !aConst { ga[ia] += isMul ? g * b[ib] : g }
                    if !bConst { gb[ib] += isMul ? g * a[ia] : g }
                }
            }]

        case .concat(let axis):
            let outer = outShape.dims[..<axis].reduce(1, *)
            let total = outShape.dims[axis...].reduce(1, *)
            var pieces: [(grad: UnsafeMutablePointer<Float>, size: Int, skip: Bool, set: Bool)] = []
            for (k, v) in node.inputs.enumerated() {
                let s = graph.values[v].shape
                pieces.append((G + offs[v], s.dims[axis...].reduce(1, *), graph.values[v].constant != nil, first[k]))
            }
            return [serial {
                for o in 0..<outer {
                    var at = 0
                    for p in pieces {
                        if !p.skip {
                            for i in 0..<p.size { put(p.grad + o * p.size + i, gy[o * total + at + i], p.set) }
                        }
                        at += p.size
                    }
                }
            }]

        case .dense(let d):
            let batch = outShape[0]
            let weight = d.weight
            return [serial {
                weight.withUnsafeBufferPointer { wp in
                    // gx[n, :] += Wᵀ · gy[n, :]
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(batch), Int32(d.inFeatures),
                                Int32(d.outFeatures), 1, gy, Int32(d.outFeatures), wp.baseAddress!, Int32(d.inFeatures),
                                set ? 0 : 1, gx, Int32(d.inFeatures))
                }
            }]

        case .softmax(let axis):
            let outer = outShape.dims[..<axis].reduce(1, *), length = outShape[axis]
            let inner = outShape.dims[(axis + 1)...].reduce(1, *)
            return [serial {
                for o in 0..<outer {
                    for i in 0..<inner {
                        let base = o * length * inner + i
                        var dot: Float = 0
                        for k in 0..<length { dot += gy[base + k * inner] * y[base + k * inner] }
                        for k in 0..<length {
                            let j = base + k * inner
                            put(gx + j, y[j] * (gy[j] - dot), set)
                        }
                    }
                }
            }]

        case .pad(let begins, _, _):
            let inDims = inShape.dims, outStrides = outShape.strides
            let rank = inDims.count, row = inDims[rank - 1]
            let rows = inDims.dropLast().reduce(1, *)
            return [serial {
                for r in 0..<rows {
                    var rem = r, o = begins[rank - 1]
                    for dd in stride(from: rank - 2, through: 0, by: -1) {
                        let k = rem % inDims[dd]; rem /= inDims[dd]
                        o += (k + begins[dd]) * outStrides[dd]
                    }
                    for i in 0..<row { put(gx + r * row + i, gy[o + i], set) }
                }
            }]
        }
    }

    // MARK: - Transposed convolution

    /// G(x) += convᵀ(G(y)): for each group, col = W_gᵀ · G(y)_g, scattered back by col2im.
    ///
    /// A 1×1 stride-1 unpadded convolution multiplies straight into G(x) (tasks over column
    /// chunks); a depthwise one runs a direct loop per channel; any other splits work by input
    /// channel (so no two tasks write the same gradient), each task computing its channel's kH·kW
    /// rows of col one column chunk at a time.
    private func convBackward(node ni: Int, conv: Convolution, input: Shape, output: Shape,
                              gx: UnsafeMutablePointer<Float>, gy: UnsafePointer<Float>, set: Bool) -> Network.Work {
        let (n, c, h, w) = (input[0], input[1], input[2], input[3])
        let (oh, ow) = (output[2], output[3])
        let win = conv.window
        let kk = win.kernelH * win.kernelW
        let groups = conv.groups
        let cinG = conv.inChannelsPerGroup, coutG = conv.outChannels / groups
        let cols = oh * ow

        if let t = Projector.transposedDepthwise(conv, input: input, output: output) {
            let wbase = UnsafeMutablePointer<Float>.allocate(capacity: t.weight.count + c)
            wbase.initialize(from: t.weight, count: t.weight.count)
            (wbase + t.weight.count).initialize(repeating: 0, count: c)
            retainedBuffers.append(wbase)
            let zeros = UnsafePointer(wbase + t.weight.count)
            let plan = t.plan
            let scratchBase = scratch.base, per = scratchPerThread, tags = scratchTags
            let planeScratch = plan.scratchPerThread
            return Network.Work(tasks: n * c) { task, worker in
                let work = scratchBase + worker * per
                let gxp = gx + task * h * w
                // Overwrite when this is the gradient's first writer, else add a temporary plane.
                let target = set ? gxp : work + planeScratch
                plan.run(task: task % c, input: gy + (task - task % c) * cols, weight: wbase, bias: zeros,
                         output: target - (task % c) * h * w, activation: nil, activated: nil,
                         scratch: work, scratchTag: tags + worker, id: ni)
                if !set { for i in 0..<(h * w) { gxp[i] += target[i] } }
            }
        }

        if cinG == 1 && groups == c && conv.outChannels == c {
            let weight = conv.weight
            let wbase = UnsafeMutablePointer<Float>.allocate(capacity: weight.count)
            wbase.initialize(from: weight, count: weight.count)
            retainedBuffers.append(wbase)
            // Per tap: its weight index, the gradient row offset, and the range of output columns
            // whose input column lies inside the plane; computed once, not per row.
            let sw = win.strideW
            var taps: [(k: Int, ky: Int, off: Int, lo: Int, hi: Int)] = []
            for ky in 0..<win.kernelH {
                for kx in 0..<win.kernelW {
                    let off = kx * win.dilationW - win.padLeft
                    let lo = off >= 0 ? 0 : (-off + sw - 1) / sw
                    let hi = min(ow, (w - 1 - off) >= 0 ? (w - 1 - off) / sw + 1 : 0)
                    if lo < hi { taps.append((ky * win.kernelW + kx, ky, off, lo, hi)) }
                }
            }
            let tapList = taps
            return Network.Work(tasks: n * c) { plane, _ in
                let ch = plane % c
                let wt = wbase + ch * kk
                let gxp = gx + plane * h * w, gyp = gy + plane * cols
                if set { gxp.update(repeating: 0, count: h * w) }
                for oy in 0..<oh {
                    let src = gyp + oy * ow
                    for t in tapList {
                        let iy = oy * win.strideH - win.padTop + t.ky * win.dilationH
                        if iy < 0 || iy >= h { continue }
                        let wv = wt[t.k]
                        let dst = gxp + iy * w + t.off
                        if sw == 1 {
                            for ox in t.lo..<t.hi { dst[ox] += wv * src[ox] }
                        } else if sw == 2 {
                            for ox in t.lo..<t.hi { dst[2 * ox] += wv * src[ox] }
                        } else {
                            for ox in t.lo..<t.hi { dst[ox * sw] += wv * src[ox] }
                        }
                    }
                }
            }
        }

        // W_g is [coutG, K] with K = cinG·kk; pack W_gᵀ [K, coutG] per input channel (kk rows each).
        let packed = transposedWeights(node: ni, conv: conv)
        let perChannel = Gemm.packedACount(m: kk, k: coutG)
        let pointwise = Projector.isPointwise(win)
        let scratchBase = scratch.base, per = scratchPerThread
        let chunk = Projector.colChunk
        let colTasks = (cols + chunk - 1) / chunk

        if pointwise {
            let perGroup = Gemm.packedACount(m: cinG, k: coutG)
            let tags = scratchTags
            // Few columns (deep layers): split the input channels too, in whole 6-row panels.
            let minTasks = 4 * network.pool.threadCount
            let rowPieces = max(1, (minTasks + n * groups * colTasks - 1) / (n * groups * colTasks))
            let rowChunk = min(cinG, max(24, ((cinG + rowPieces - 1) / rowPieces + 5) / 6 * 6))
            let rowTasks = (cinG + rowChunk - 1) / rowChunk
            return Network.Work(tasks: n * groups * colTasks * rowTasks) { t, worker in
                tags[worker] = -1   // the scratch no longer holds a depthwise layout
                let rt = t % rowTasks, ct = (t / rowTasks) % colTasks
                let g = (t / (rowTasks * colTasks)) % groups, img = t / (rowTasks * colTasks * groups)
                let col0 = ct * chunk, ncols = min(chunk, cols - col0)
                let row0 = rt * rowChunk, nrows = min(rowChunk, cinG - row0)
                packed.withUnsafeBufferPointer { pk in
                    Gemm.multiply(packedA: pk.baseAddress! + g * perGroup, m: cinG, k: coutG, row0: row0, rows: nrows,
                                  b: gy + (img * conv.outChannels + g * coutG) * cols + col0, ldb: cols, ncols: ncols,
                                  c: gx + (img * c + g * cinG + row0) * h * w + col0, ldc: h * w, accumulate: !set,
                                  scratch: scratchBase + worker * per)
                }
            }
        }

        let tags = scratchTags
        return Network.Work(tasks: n * c) { t, worker in
            tags[worker] = -1   // the scratch no longer holds a depthwise layout
            let ci = t % c, img = t / c
            let g = ci / cinG, cig = ci % cinG
            let colBuf = scratchBase + worker * per
            let packScratch = colBuf + Arena.aligned(kk * chunk)
            let gxp = gx + (img * c + ci) * h * w
            if set { gxp.update(repeating: 0, count: h * w) }
            let gyg = gy + (img * conv.outChannels + g * coutG) * cols
            packed.withUnsafeBufferPointer { pk in
                let a = pk.baseAddress! + (g * cinG + cig) * perChannel
                var col0 = 0
                while col0 < cols {
                    let ncols = min(chunk, cols - col0)
                    Gemm.multiply(packedA: a, m: kk, k: coutG, row0: 0, rows: kk, b: gyg + col0, ldb: cols,
                                  ncols: ncols, c: colBuf, ldc: ncols, accumulate: false, scratch: packScratch)
                    // col2im: row (ky, kx), column j = output position col0 + j.
                    for ky in 0..<win.kernelH {
                        for kx in 0..<win.kernelW {
                            let row = colBuf + (ky * win.kernelW + kx) * ncols
                            var oy = col0 / ow, ox = col0 % ow
                            for j in 0..<ncols {
                                let iy = oy * win.strideH - win.padTop + ky * win.dilationH
                                let ix = ox * win.strideW - win.padLeft + kx * win.dilationW
                                if iy >= 0 && iy < h && ix >= 0 && ix < w { gxp[iy * w + ix] += row[j] }
                                ox += 1
                                if ox == ow { ox = 0; oy += 1 }
                            }
                        }
                    }
                    col0 += ncols
                }
            }
        }
    }

    /// Depthwise weights copied out of the graph for the prebuilt closures; freed with the projector.
    private var retainedBuffers: [UnsafeMutablePointer<Float>] = []

    deinit {
        for b in retainedBuffers { b.deallocate() }
        scratchTags.deallocate()
    }

    /// W_gᵀ of every group, packed per input channel (kH·kW rows × Cout/g) for `Gemm`; for a
    /// pointwise convolution, per group (Cin/g rows).
    /// A 1×1, stride-1, unpadded window: its transpose is a plain matrix product.
    static func isPointwise(_ win: Window) -> Bool {
        win.kernelH == 1 && win.kernelW == 1 && win.strideH == 1 && win.strideW == 1 && win.padTop == 0
            && win.padLeft == 0 && win.padBottom == 0 && win.padRight == 0
    }

    private func transposedWeights(node ni: Int, conv: Convolution) -> [Float] {
        if let p = packedTransposed[ni] { return p }
        let win = conv.window
        let kk = win.kernelH * win.kernelW
        let groups = conv.groups, cinG = conv.inChannelsPerGroup, coutG = conv.outChannels / groups
        let k = cinG * kk
        var out: [Float] = []
        conv.weight.withUnsafeBufferPointer { wp in
            if Projector.isPointwise(win) {
                let per = Gemm.packedACount(m: cinG, k: coutG)
                out = [Float](repeating: 0, count: per * groups)
                out.withUnsafeMutableBufferPointer { o in
                    for g in 0..<groups {
                        // Element (i, j) of W_gᵀ is W_g[j, i] = wp[(g·coutG + j)·k + i].
                        Gemm.packA(wp.baseAddress! + g * coutG * k, rowStride: 1, columnStride: k,
                                   m: cinG, k: coutG, into: o.baseAddress! + g * per)
                    }
                }
            } else {
                let per = Gemm.packedACount(m: kk, k: coutG)
                out = [Float](repeating: 0, count: per * groups * cinG)
                out.withUnsafeMutableBufferPointer { o in
                    for g in 0..<groups {
                        for ci in 0..<cinG {
                            Gemm.packA(wp.baseAddress! + g * coutG * k + ci * kk, rowStride: 1, columnStride: k,
                                       m: kk, k: coutG, into: o.baseAddress! + (g * cinG + ci) * per)
                        }
                    }
                }
            }
        }
        packedTransposed[ni] = out
        return out
    }
}

/// dst[i] = value(i) (`set`) or dst[i] += value(i), for i in s..<e: two plain loops the compiler
/// vectorizes, rather than one loop that tests `set` per element.
@inline(__always) private func store(_ dst: UnsafeMutablePointer<Float>, _ s: Int, _ e: Int, _ set: Bool,
                                     _ value: (Int) -> Float) {
    if set {
        for i in s..<e { dst[i] = value(i) }
    } else {
        for i in s..<e { dst[i] += value(i) }
    }
}

/// Writes (`set`) or adds `v` at `p`.
@inline(__always) private func put(_ p: UnsafeMutablePointer<Float>, _ v: Float, _ set: Bool) {
    p.pointee = set ? v : p.pointee + v
}
