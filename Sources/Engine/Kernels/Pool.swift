/// Max and average pooling over one NCHW plane.
///
/// Padded positions never win a max and, unless `countIncludePad`, do not count in an average;
/// ceil-mode overhang past the bottom/right padding never counts at all.
enum Pool {
    /// The planes (N·C) of a pooling layer and their input and output sizes.
    struct Geometry {
        let planes: Int, h: Int, w: Int, oh: Int, ow: Int
        init(input s: Shape, output o: Shape) { (planes, h, w, oh, ow) = (s[0] * s[1], s[2], s[3], o[2], o[3]) }
    }

    /// Max pooling of one plane. When `switches` is given, records for each output the flat index
    /// (y·w + x) of the first maximum of its window in row-major order — the deconvnet's switch.
    static func max(_ x: UnsafePointer<Float>, h: Int, w: Int, window win: Window, oh: Int, ow: Int,
                    _ y: UnsafeMutablePointer<Float>, switches: UnsafeMutablePointer<Int32>?) {
        for oy in 0..<oh {
            let y0 = oy * win.strideH - win.padTop
            let ys = Swift.max(y0, 0), ye = Swift.min(y0 + (win.kernelH - 1) * win.dilationH + 1, h)
            for ox in 0..<ow {
                let x0 = ox * win.strideW - win.padLeft
                let xs = Swift.max(x0, 0), xe = Swift.min(x0 + (win.kernelW - 1) * win.dilationW + 1, w)
                var best = -Float.infinity
                var arg: Int32 = -1
                var iy = ys
                // Align the first row/column to the dilation grid of this window.
                if win.dilationH > 1 { iy = y0 + ((ys - y0 + win.dilationH - 1) / win.dilationH) * win.dilationH }
                while iy < ye {
                    var ix = xs
                    if win.dilationW > 1 { ix = x0 + ((xs - x0 + win.dilationW - 1) / win.dilationW) * win.dilationW }
                    while ix < xe {
                        let v = x[iy * w + ix]
                        if v > best || arg < 0 { best = v; arg = Int32(iy * w + ix) }
                        ix += win.dilationW
                    }
                    iy += win.dilationH
                }
                y[oy * ow + ox] = best
                switches?[oy * ow + ox] = arg
            }
        }
    }

    /// Average pooling of one plane (with dilation: the window's taps are `dilation` apart).
    static func average(_ x: UnsafePointer<Float>, h: Int, w: Int, window win: Window, countIncludePad: Bool,
                        oh: Int, ow: Int, _ y: UnsafeMutablePointer<Float>) {
        for oy in 0..<oh {
            for ox in 0..<ow {
                var s: Float = 0
                forEachTap(oy: oy, ox: ox, h: h, w: w, window: win) { s += x[$0] }
                let count = divisor(oy: oy, ox: ox, h: h, w: w, window: win, countIncludePad: countIncludePad)
                y[oy * ow + ox] = count > 0 ? s / Float(count) : 0
            }
        }
    }

    /// The divisor of the average at output (oy, ox), the one rule the forward pass and the
    /// projection share: the window's positions inside the input, or, with `countIncludePad`, inside
    /// the padded input; ceil-mode overhang beyond the padding never counts.
    @inline(__always)
    static func divisor(oy: Int, ox: Int, h: Int, w: Int, window win: Window, countIncludePad: Bool) -> Int {
        let y0 = oy * win.strideH - win.padTop, x0 = ox * win.strideW - win.padLeft
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
        return countIncludePad ? padded : inside
    }

    /// Calls `body(iy · w + ix)` for each tap of the window at output (oy, ox) that lies inside the
    /// input plane, in row-major order.
    @inline(__always)
    static func forEachTap(oy: Int, ox: Int, h: Int, w: Int, window win: Window, _ body: (Int) -> Void) {
        let y0 = oy * win.strideH - win.padTop, x0 = ox * win.strideW - win.padLeft
        for ky in 0..<win.kernelH {
            let iy = y0 + ky * win.dilationH
            if iy < 0 || iy >= h { continue }
            for kx in 0..<win.kernelW {
                let ix = x0 + kx * win.dilationW
                if ix >= 0 && ix < w { body(iy * w + ix) }
            }
        }
    }

    /// The output shape of a pooling window over the NCHW input `check` holds.
    static func outputShape(_ check: ShapeCheck, window w: Window) throws -> Shape {
        try check.inputs(1)
        let x = try check.nchw()
        guard let o = w.outputSize(h: x.h, w: x.w) else {
            throw check.fail("pooling window \(w.kernelH)×\(w.kernelW) does not fit input \(x.h)×\(x.w)")
        }
        guard w.padTop < w.kernelH, w.padBottom < w.kernelH, w.padLeft < w.kernelW, w.padRight < w.kernelW else {
            throw check.fail("pooling pads must be smaller than the window")
        }
        return Shape([x.n, x.c, o.h, o.w])
    }
}

/// What MaxPool and AveragePool share: a window over an NCHW input, the output shape it gives
/// (`Pool.outputShape`, with dilation) and the receptive field through it.
protocol WindowedPool: Op {
    var window: Window { get }
}

extension WindowedPool {
    func outputShape(_ check: ShapeCheck) throws -> Shape { try Pool.outputShape(check, window: window) }
    func receptiveField(_ context: FieldContext) -> ReceptiveField { context.first.through(window) }
}
