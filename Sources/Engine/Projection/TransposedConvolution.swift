/// The backward pass of a convolution: G(x) = convᵀ(G(y)), for each group col = W_gᵀ · G(y)_g
/// scattered back by col2im, in one of three strategies:
///
/// - a stride-1 depthwise convolution's transpose is itself a depthwise convolution (kernel
///   flipped), run on the forward pass's vectorized kernel;
/// - any other depthwise convolution runs a direct loop per channel, tap by tap;
/// - a pointwise (1×1, stride-1, unpadded) convolution multiplies straight into G(x) (tasks over
///   column chunks and, for deep layers, input-channel panels);
/// - anything else splits work by input channel (so no two tasks write the same gradient), each
///   task computing its channel's kH·kW rows of col one column chunk at a time.
enum TransposedConvolution {
    /// Column chunk of the transposed-convolution GEMM.
    static let colChunk = 256

    /// Floats of scratch per thread: one column chunk of a channel's im2col rows plus GEMM
    /// packing, or a stride-1 depthwise layer's padded plane plus one output plane.
    static func scratchPerThread(_ conv: Convolution, input: Shape, output: Shape) -> Int {
        let kk = conv.window.kernelH * conv.window.kernelW
        var most = Arena.aligned(kk * colChunk) + Arena.aligned(Gemm.packedBCount(ncols: colChunk))
        if let t = transposedDepthwise(conv, input: input, output: output) {
            most = max(most, t.plan.scratchPerThread + Arena.aligned(input[2] * input[3]))
        }
        return most
    }

    /// A stride-1 depthwise convolution's transpose as a depthwise convolution of the output
    /// gradient: the kernel flipped, each pad p becoming (k − 1)·d − p. Planned like a forward layer,
    /// it runs on the forward pass's vectorized kernel. Nil for strided layers or unusual pads.
    static func transposedDepthwise(_ conv: Convolution, input: Shape, output: Shape) -> (plan: ConvPlan, weight: [Float])? {
        let win = conv.window
        let c = input[1]
        guard conv.isDepthwise, win.strideH == 1, win.strideW == 1 else { return nil }
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

    /// The backward work of convolution `conv` at the node `c` describes.
    static func work(_ conv: Convolution, _ c: BackwardContext) -> Work {
        if let t = transposedDepthwise(conv, input: c.inputShape, output: c.outputShape) {
            return depthwiseStride1(t.plan, weight: t.weight, c)
        }
        if conv.isDepthwise { return depthwise(conv, c) }
        if conv.window.isPointwise { return pointwise(conv, c) }
        return general(conv, c)
    }

    // MARK: - Depthwise

    private static func depthwiseStride1(_ plan: ConvPlan, weight: [Float], _ ctx: BackwardContext) -> Work {
        let input = ctx.inputShape
        let (n, c, h, w) = (input[0], input[1], input[2], input[3])
        let cols = ctx.outputShape[2] * ctx.outputShape[3]
        let r = ctx.resources
        let wbase = r.retain(weight, zeros: c)
        let zeros = UnsafePointer(wbase + weight.count)
        let scratchBase = r.scratch, per = r.scratchPerThread, tags = r.scratchTags
        let planeScratch = plan.scratchPerThread
        let gx = ctx.gx, gy = ctx.gy, set = ctx.set, ni = ctx.node
        return Work(tasks: n * c) { task, worker in
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

    private static func depthwise(_ conv: Convolution, _ ctx: BackwardContext) -> Work {
        let input = ctx.inputShape, output = ctx.outputShape
        let (c, h, w) = (input[1], input[2], input[3])
        let (oh, ow) = (output[2], output[3])
        let win = conv.window
        let kk = win.kernelH * win.kernelW, cols = oh * ow
        let wbase = ctx.resources.retain(conv.weight)
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
        let gx = ctx.gx, gy = ctx.gy, set = ctx.set
        return Work(tasks: input[0] * c) { plane, _ in
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

    // MARK: - GEMM

    private static func pointwise(_ conv: Convolution, _ ctx: BackwardContext) -> Work {
        let input = ctx.inputShape, output = ctx.outputShape
        let (n, c, h, w) = (input[0], input[1], input[2], input[3])
        let cols = output[2] * output[3]
        let groups = conv.groups, cinG = conv.inChannelsPerGroup, coutG = conv.outChannels / groups
        let r = ctx.resources
        let packed = r.packed(node: ctx.node) { transposedWeights(conv) }
        let perGroup = Gemm.packedACount(m: cinG, k: coutG)
        let scratchBase = r.scratch, per = r.scratchPerThread, tags = r.scratchTags
        let chunk = colChunk
        let colTasks = (cols + chunk - 1) / chunk
        // Few columns (deep layers): split the input channels too, in whole 6-row panels.
        let minTasks = 4 * r.threads
        let rowPieces = max(1, (minTasks + n * groups * colTasks - 1) / (n * groups * colTasks))
        let rowChunk = min(cinG, max(24, ((cinG + rowPieces - 1) / rowPieces + 5) / 6 * 6))
        let rowTasks = (cinG + rowChunk - 1) / rowChunk
        let gx = ctx.gx, gy = ctx.gy, set = ctx.set
        let outChannels = conv.outChannels
        return Work(tasks: n * groups * colTasks * rowTasks) { t, worker in
            tags[worker] = -1   // the scratch no longer holds a depthwise layout
            let rt = t % rowTasks, ct = (t / rowTasks) % colTasks
            let g = (t / (rowTasks * colTasks)) % groups, img = t / (rowTasks * colTasks * groups)
            let col0 = ct * chunk, ncols = min(chunk, cols - col0)
            let row0 = rt * rowChunk, nrows = min(rowChunk, cinG - row0)
            packed.withUnsafeBufferPointer { pk in
                Gemm.multiply(packedA: pk.baseAddress! + g * perGroup, m: cinG, k: coutG, row0: row0, rows: nrows,
                              b: gy + (img * outChannels + g * coutG) * cols + col0, ldb: cols, ncols: ncols,
                              c: gx + (img * c + g * cinG + row0) * h * w + col0, ldc: h * w, accumulate: !set,
                              scratch: scratchBase + worker * per)
            }
        }
    }

    private static func general(_ conv: Convolution, _ ctx: BackwardContext) -> Work {
        let input = ctx.inputShape, output = ctx.outputShape
        let (n, c, h, w) = (input[0], input[1], input[2], input[3])
        let (oh, ow) = (output[2], output[3])
        let win = conv.window
        let kk = win.kernelH * win.kernelW, cols = oh * ow
        let groups = conv.groups, cinG = conv.inChannelsPerGroup, coutG = conv.outChannels / groups
        let r = ctx.resources
        let packed = r.packed(node: ctx.node) { transposedWeights(conv) }
        let perChannel = Gemm.packedACount(m: kk, k: coutG)
        let scratchBase = r.scratch, per = r.scratchPerThread, tags = r.scratchTags
        let chunk = colChunk
        let gx = ctx.gx, gy = ctx.gy, set = ctx.set
        let outChannels = conv.outChannels
        return Work(tasks: n * c) { t, worker in
            tags[worker] = -1   // the scratch no longer holds a depthwise layout
            let ci = t % c, img = t / c
            let g = ci / cinG, cig = ci % cinG
            let colBuf = scratchBase + worker * per
            let packScratch = colBuf + Arena.aligned(kk * chunk)
            let gxp = gx + (img * c + ci) * h * w
            if set { gxp.update(repeating: 0, count: h * w) }
            let gyg = gy + (img * outChannels + g * coutG) * cols
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

    // MARK: - Weight packing

    /// W_gᵀ of every group packed for `Gemm`: per group (Cin/g rows) for a pointwise convolution,
    /// else per input channel (kH·kW rows × Cout/g).
    static func transposedWeights(_ conv: Convolution) -> [Float] {
        let win = conv.window
        let kk = win.kernelH * win.kernelW
        let groups = conv.groups, cinG = conv.inChannelsPerGroup, coutG = conv.outChannels / groups
        let k = cinG * kk
        var out: [Float] = []
        conv.weight.withUnsafeBufferPointer { wp in
            if win.isPointwise {
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
        return out
    }
}
