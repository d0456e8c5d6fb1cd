/// Max and average pooling over one NCHW plane.
///
/// Padded positions never win a max and, unless `countIncludePad`, do not count in an average;
/// ceil-mode overhang past the bottom/right padding never counts at all.
enum Pool {
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
        let dh = win.dilationH, dw = win.dilationW
        for oy in 0..<oh {
            let y0 = oy * win.strideH - win.padTop
            for ox in 0..<ow {
                let x0 = ox * win.strideW - win.padLeft
                var s: Float = 0
                var inside = 0, padded = 0
                for ky in 0..<win.kernelH {
                    let iy = y0 + ky * dh
                    // Positions in the padded input count when padding is included; ceil-mode
                    // overhang beyond the padding never does.
                    if iy >= h + win.padBottom { break }
                    for kx in 0..<win.kernelW {
                        let ix = x0 + kx * dw
                        if ix >= w + win.padRight { break }
                        padded += 1
                        if iy >= 0 && iy < h && ix >= 0 && ix < w {
                            s += x[iy * w + ix]
                            inside += 1
                        }
                    }
                }
                let count = countIncludePad ? padded : inside
                y[oy * ow + ox] = count > 0 ? s / Float(count) : 0
            }
        }
    }
}
