import Foundation

/// An activation applied to a block of a layer's output right after it is computed, while it is
/// still in cache (`apply` may work in place).
public enum FusedActivation: Sendable {
    case relu
    case clip(lo: Float, hi: Float)
    case leakyRelu(alpha: Float)

    /// dst[i] = f(src[i] + bias) for i in 0..<n (src and dst may be the same).
    @inline(__always) func apply(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int, bias: Float = 0) {
        switch self {
        case .relu: Epilogue.clamp(src, dst, n, bias: bias, lo: 0, hi: .infinity)
        case .clip(let lo, let hi): Epilogue.clamp(src, dst, n, bias: bias, lo: lo, hi: hi)
        case .leakyRelu(let a):
            for i in 0..<n { let v = src[i] + bias; dst[i] = v > 0 ? v : v * a }
        }
    }
}

/// Vectorized bias-and-activation passes over a block of a layer's output.
enum Epilogue {
    typealias V = SIMD8<Float>

    /// dst = clamp(src + bias, lo, hi), eight lanes at a time.
    @inline(__always) static func clamp(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int,
                                        bias: Float, lo: Float, hi: Float) {
        let b = V(repeating: bias), l = V(repeating: lo), h = V(repeating: hi)
        var i = 0
        while i + 8 <= n {
            var v = UnsafeRawPointer(src + i).loadUnaligned(as: V.self) + b
            // replacing(with:where:) compiles to compare-and-blend; pointwiseMin/Max do not vectorize.
            v.replace(with: l, where: v .< l)
            v.replace(with: h, where: v .> h)
            UnsafeMutableRawPointer(dst + i).storeBytes(of: v, as: V.self)
            i += 8
        }
        while i < n { dst[i] = min(max(src[i] + bias, lo), hi); i += 1 }
    }

    /// dst = src + bias.
    @inline(__always) static func addBias(_ p: UnsafeMutablePointer<Float>, _ n: Int, bias: Float) {
        let b = V(repeating: bias)
        var i = 0
        while i + 8 <= n {
            let v = UnsafeRawPointer(p + i).loadUnaligned(as: V.self) + b
            UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: V.self)
            i += 8
        }
        while i < n { p[i] += bias; i += 1 }
    }
}

/// A convolution planned for one input size: how its work is split into tasks and how much scratch
/// each thread needs.
///
/// Layout: input NCHW, weights OIHW (which, per group, is the row-major [Cout/g, Cin/g·kH·kW]
/// matrix GEMM wants), output NCHW. A group's output [Cout/g, OH·OW] = W_g · col_g, where col_g is the
/// im2col matrix [Cin/g·kH·kW, OH·OW] of the group's input. A 1×1, stride-1, unpadded convolution
/// multiplies the input directly. Depthwise convolutions (one input channel per group) run a direct
/// loop per channel instead.
struct ConvPlan {
    let conv: Convolution
    let n: Int, c: Int, h: Int, w: Int
    let oh: Int, ow: Int
    let depthwise: Bool
    let pointwise: Bool
    /// Output columns (OH·OW positions) per task, and rows (output channels of one group) per task.
    let colChunk: Int, rowChunk: Int
    let colTasks: Int, rowTasks: Int
    /// Floats of im2col scratch one thread needs.
    let scratchPerThread: Int

    init(conv: Convolution, input: Shape, output: Shape, threads: Int) {
        self.conv = conv
        (n, c, h, w) = (input[0], input[1], input[2], input[3])
        (oh, ow) = (output[2], output[3])
        let win = conv.window
        depthwise = conv.isDepthwise
        pointwise = win.isPointwise
        let cols = oh * ow
        let rows = conv.outChannels / conv.groups
        // Column chunks of at most 256 keep a block of the output and of col in L2; they are made
        // equal (multiples of 16, the GEMM tile) so no task is a small remainder. When that gives
        // too few tasks to keep every thread busy (deep layers, few columns), output channels are
        // split too, in whole 6-row panels of the packed weights and at least 24 rows each.
        let colPieces = max(1, (cols + 255) / 256)
        colChunk = min(cols, ((cols + colPieces - 1) / colPieces + 15) / 16 * 16)
        colTasks = (cols + colChunk - 1) / colChunk
        let minTasks = 4 * max(1, threads)
        let rowPieces = max(1, (minTasks + colTasks * conv.groups * n - 1) / (colTasks * conv.groups * n))
        rowChunk = min(rows, max(24, ((rows + rowPieces - 1) / rowPieces + 5) / 6 * 6))
        rowTasks = (rows + rowChunk - 1) / rowChunk
        let k = conv.inChannelsPerGroup * win.kernelH * win.kernelW
        if depthwise {
            scratchPerThread = Arena.aligned(win.strideW * (ow + 8 + ((win.kernelW - 1) * win.dilationW) / win.strideW + 1)
                                             * ((oh + 3 - 1) * win.strideH + (win.kernelH - 1) * win.dilationH + 1))
        } else {
            scratchPerThread = (pointwise ? 0 : Arena.aligned(k * colChunk)) + Arena.aligned(Gemm.packedBCount(ncols: colChunk))
        }
    }

    var taskCount: Int { depthwise ? n * c : n * conv.groups * colTasks * rowTasks }

    /// Weights as `run` reads them: OIHW for depthwise, else each group's [Cout/g, K] matrix packed
    /// for `Gemm` (one after another).
    func packedWeights() -> [Float] {
        if depthwise { return conv.weight }
        let rows = conv.outChannels / conv.groups
        let k = conv.inChannelsPerGroup * conv.window.kernelH * conv.window.kernelW
        let per = Gemm.packedACount(m: rows, k: k)
        var out = [Float](repeating: 0, count: per * conv.groups)
        conv.weight.withUnsafeBufferPointer { w in
            out.withUnsafeMutableBufferPointer { o in
                for g in 0..<conv.groups {
                    Gemm.packA(w.baseAddress! + g * rows * k, lda: k, m: rows, k: k, into: o.baseAddress! + g * per)
                }
            }
        }
        return out
    }

    /// Runs one task: a channel of a depthwise convolution, or a block of rows × columns of one
    /// group's GEMM. Writes `output` and, when given, the fused activation into `activated`.
    func run(task: Int, input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
             output: UnsafeMutablePointer<Float>, activation: FusedActivation?, activated: UnsafeMutablePointer<Float>?,
             scratch: UnsafeMutablePointer<Float>, scratchTag: UnsafeMutablePointer<Int>, id: Int) {
        if depthwise {
            let plane = task  // (image, channel)
            let ch = plane % c
            let kk = conv.window.kernelH * conv.window.kernelW
            depthwisePlane(input + plane * h * w, weight + ch * kk, bias[ch], output + plane * oh * ow,
                           scratch: scratch, tag: scratchTag, id: id)
            if let activation, let activated {
                activation.apply(output + plane * oh * ow, activated + plane * oh * ow, oh * ow)
            }
            return
        }
        scratchTag.pointee = -1   // im2col and packing overwrite the scratch
        var t = task
        let rt = t % rowTasks; t /= rowTasks
        let ct = t % colTasks; t /= colTasks
        let g = t % conv.groups; t /= conv.groups
        let img = t
        let win = conv.window
        let cols = oh * ow
        let rowsPerGroup = conv.outChannels / conv.groups
        let k = conv.inChannelsPerGroup * win.kernelH * win.kernelW
        let col0 = ct * colChunk, ncols = min(colChunk, cols - col0)
        let row0 = rt * rowChunk, nrows = min(rowChunk, rowsPerGroup - row0)
        let groupInput = input + (img * c + g * conv.inChannelsPerGroup) * h * w
        let firstRow = g * rowsPerGroup + row0
        let out = output + (img * conv.outChannels + firstRow) * cols + col0
        let b: UnsafePointer<Float>, ldb: Int
        var packScratch = scratch
        if pointwise {
            b = UnsafePointer(groupInput + col0); ldb = cols
        } else {
            im2col(groupInput, col0: col0, ncols: ncols, into: scratch)
            b = UnsafePointer(scratch); ldb = ncols
            packScratch += Arena.aligned(k * colChunk)
        }
        Gemm.multiply(packedA: weight + g * Gemm.packedACount(m: rowsPerGroup, k: k), m: rowsPerGroup, k: k,
                      row0: row0, rows: nrows, b: b, ldb: ldb, ncols: ncols,
                      c: out, ldc: cols, accumulate: false, scratch: packScratch)
        for r in 0..<nrows {
            let row = out + r * cols
            let bv = bias[firstRow + r]
            if let activation, let activated {
                activation.apply(row, activated + (row - output), ncols, bias: bv)
            } else {
                Epilogue.addBias(row, ncols, bias: bv)
            }
        }
    }

    /// Columns `col0..<col0+ncols` of the im2col matrix of one group's input, as a dense
    /// [k, ncols] block.
    private func im2col(_ x: UnsafePointer<Float>, col0: Int, ncols: Int, into col: UnsafeMutablePointer<Float>) {
        let win = conv.window
        var row = 0
        for ci in 0..<conv.inChannelsPerGroup {
            let plane = x + ci * h * w
            for ky in 0..<win.kernelH {
                for kx in 0..<win.kernelW {
                    let dst = col + row * ncols
                    let dy = ky * win.dilationH - win.padTop
                    let dx = kx * win.dilationW - win.padLeft
                    var oy = col0 / ow, ox = col0 % ow
                    var j = 0
                    while j < ncols {
                        let run = min(ow - ox, ncols - j)
                        let iy = oy * win.strideH + dy
                        if iy < 0 || iy >= h {
                            for t in 0..<run { dst[j + t] = 0 }
                        } else {
                            let src = plane + iy * w
                            if win.strideW == 1 {
                                // Valid ox range: 0 <= ox + dx < w.
                                let lo = min(max(-dx - ox, 0), run), hi = max(min(w - dx - ox, run), lo)
                                for t in 0..<lo { dst[j + t] = 0 }
                                for t in lo..<hi { dst[j + t] = src[ox + t + dx] }
                                for t in hi..<run { dst[j + t] = 0 }
                            } else {
                                for t in 0..<run {
                                    let ix = (ox + t) * win.strideW + dx
                                    dst[j + t] = (ix >= 0 && ix < w) ? src[ix] : 0
                                }
                            }
                        }
                        j += run
                        ox = 0; oy += 1
                    }
                    row += 1
                }
            }
        }
    }

    // MARK: - Depthwise

    /// Column phases of the padded plane: with stride s, phase φ holds padded columns φ, φ+s, φ+2s, …,
    /// so every tap reads 8 consecutive floats of one phase.
    var phases: Int { conv.window.strideW }
    /// Width of one phase plane, with slack for a full 8-wide read at the last output column.
    var phaseWidth: Int { ow + 8 + ((conv.window.kernelW - 1) * conv.window.dilationW) / conv.window.strideW + 1 }
    /// Rows of the padded plane, with slack for a 4-row block that starts at the last output row.
    var paddedRows: Int { (oh + 3 - 1) * conv.window.strideH + (conv.window.kernelH - 1) * conv.window.dilationH + 1 }
    var depthwiseScratch: Int { phases * phaseWidth * paddedRows }

    /// One channel of a depthwise convolution.
    ///
    /// The plane is first copied into zero-padded scratch, split into column phases (so strided
    /// taps become contiguous reads). Outputs are then computed in blocks of 4 rows × 8 columns:
    /// four independent 8-wide accumulators, each tap one broadcast weight and four FMAs.
    private func depthwisePlane(_ x: UnsafePointer<Float>, _ wt: UnsafePointer<Float>, _ bias: Float,
                                _ y: UnsafeMutablePointer<Float>, scratch p: UnsafeMutablePointer<Float>,
                                tag: UnsafeMutablePointer<Int>, id: Int) {
        typealias V = SIMD8<Float>
        let win = conv.window
        let s = win.strideW, pwid = phaseWidth, rowsP = paddedRows
        let phaseSize = pwid * rowsP
        // Padded row py is input row py - padTop; padded column px is input column px - padLeft,
        // stored in phase px % s at column px / s. The scratch is zeroed only when it last held
        // something else (`tag` names its owner): from then on only the input's own pixels change.
        if tag.pointee != id {
            p.update(repeating: 0, count: s * phaseSize)
            tag.pointee = id
        }
        for iy in 0..<h {
            let py = iy + win.padTop
            if py >= rowsP { break }
            let src = x + iy * w
            if s == 1 {
                let lo = min(win.padLeft, pwid), hi = max(min(win.padLeft + w, pwid), lo)
                if hi > lo { (p + py * pwid + lo).update(from: src + (lo - win.padLeft), count: hi - lo) }
            } else if s == 2 {
                // Input column ix lands in phase (ix + padLeft) % 2 at column (ix + padLeft) / 2;
                // sixteen at a time, split into even and odd lanes.
                let evenPhase = win.padLeft % 2
                let even = p + evenPhase * phaseSize + py * pwid + win.padLeft / 2
                let odd = p + (1 - evenPhase) * phaseSize + py * pwid + (win.padLeft + 1) / 2
                let limit = min(w, 2 * (pwid - (win.padLeft + 1) / 2))
                var ix = 0
                while ix + 16 <= limit {
                    let v = UnsafeRawPointer(src + ix).loadUnaligned(as: SIMD16<Float>.self)
                    UnsafeMutableRawPointer(even + ix / 2).storeBytes(of: v.evenHalf, as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(odd + ix / 2).storeBytes(of: v.oddHalf, as: SIMD8<Float>.self)
                    ix += 16
                }
                while ix < limit {
                    if ix % 2 == 0 { even[ix / 2] = src[ix] } else { odd[ix / 2] = src[ix] }
                    ix += 1
                }
            } else {
                for ix in 0..<w {
                    let px = ix + win.padLeft
                    if px / s >= pwid { break }
                    p[(px % s) * phaseSize + py * pwid + px / s] = src[ix]
                }
            }
        }
        let taps = win.kernelH * win.kernelW, sh = win.strideH
        let rowStep = sh * pwid
        let bv = V(repeating: bias)
        // Where each tap reads, relative to the block's top-left output: computed once per plane
        // (divisions by the stride stay out of the inner loop).
        withUnsafeTemporaryAllocation(of: Int.self, capacity: taps) { offsets in
        for ky in 0..<win.kernelH {
            for kx in 0..<win.kernelW {
                let col = kx * win.dilationW
                offsets[ky * win.kernelW + kx] = (col % s) * phaseSize + ky * win.dilationH * pwid + col / s
            }
        }
        var oy0 = 0
        while oy0 < oh {
            let rows = min(4, oh - oy0)
            var ox0 = 0
            while ox0 < ow {
                var a0 = bv, a1 = bv, a2 = bv, a3 = bv
                let origin = p + oy0 * rowStep + ox0
                for t in 0..<taps {
                    let base = UnsafeRawPointer(origin + offsets[t])
                    let wv = V(repeating: wt[t])
                    a0 = a0.addingProduct(wv, base.loadUnaligned(as: V.self))
                    a1 = a1.addingProduct(wv, (base + 4 * rowStep).loadUnaligned(as: V.self))
                    a2 = a2.addingProduct(wv, (base + 8 * rowStep).loadUnaligned(as: V.self))
                    a3 = a3.addingProduct(wv, (base + 12 * rowStep).loadUnaligned(as: V.self))
                }
                let n = min(8, ow - ox0)
                @inline(__always) func put(_ r: Int, _ v: V) {
                    guard r < rows else { return }
                    let dst = y + (oy0 + r) * ow + ox0
                    if n == 8 {
                        UnsafeMutableRawPointer(dst).storeBytes(of: v, as: V.self)
                    } else {
                        for j in 0..<n { dst[j] = v[j] }
                    }
                }
                put(0, a0); put(1, a1); put(2, a2); put(3, a3)
                ox0 += 8
            }
            oy0 += 4
        }
        }
    }
}
