/// ConvTranspose: the transpose of a convolution with the same window. The weight is ONNX's
/// [inChannels, outChannels / groups, kH, kW] (`inChannelsPerGroup` is inChannels / groups); each
/// input element scatters its weighted kernel onto the output at y = iy·stride − padTop + ky·dilation.
struct ConvTransposeOp: Op {
    let conv: Convolution
    /// Extra rows and columns at the bottom and right of the output.
    let outputPadding: [Int]

    var kindName: String { "ConvTranspose" }

    /// Output height and width for an input of `h`×`w`.
    static func outputSize(_ c: Convolution, outputPadding p: [Int], h: Int, w: Int) -> (h: Int, w: Int) {
        let win = c.window
        return ((h - 1) * win.strideH - win.padTop - win.padBottom + win.dilationH * (win.kernelH - 1) + p[0] + 1,
                (w - 1) * win.strideW - win.padLeft - win.padRight + win.dilationW * (win.kernelW - 1) + p[1] + 1)
    }

    func outputShape(_ check: ShapeCheck) throws -> Shape {
        try check.inputs(1)
        let x = try check.nchw()
        let c = conv
        guard x.c == c.inChannelsPerGroup * c.groups, c.outChannels % c.groups == 0 else {
            throw check.fail("ConvTranspose expects \(c.inChannelsPerGroup * c.groups) input channels in \(c.groups) group(s), got \(x.c)")
        }
        guard c.weight.count == x.c * (c.outChannels / c.groups) * c.window.kernelH * c.window.kernelW,
              c.bias.count == c.outChannels, outputPadding.count == 2 else {
            throw check.fail("ConvTranspose weight or bias size does not match its shape")
        }
        let o = ConvTransposeOp.outputSize(c, outputPadding: outputPadding, h: x.h, w: x.w)
        guard o.h > 0, o.w > 0 else { throw check.fail("ConvTranspose output would be \(o.h)×\(o.w)") }
        return Shape([x.n, c.outChannels, o.h, o.w])
    }

    /// The fixed sizes of one run.
    private struct Layout {
        let n: Int, cin: Int, h: Int, w: Int, cout: Int, oh: Int, ow: Int
        let inPerGroup: Int, outPerGroup: Int
        init(_ c: Convolution, input: Shape, output: Shape) {
            (n, cin, h, w) = (input[0], input[1], input[2], input[3])
            (cout, oh, ow) = (output[1], output[2], output[3])
            inPerGroup = c.inChannelsPerGroup
            outPerGroup = c.outChannels / c.groups
        }
    }

    /// Calls `kernel(tap, outputIndex)` for every tap of input position (iy, ix) that lands inside
    /// the output plane (tap = ky · kW + kx).
    @inline(__always)
    private static func forEachTap(_ win: Window, _ l: Layout, iy: Int, ix: Int, kernel: (Int, Int) -> Void) {
        for ky in 0..<win.kernelH {
            let oy = iy * win.strideH - win.padTop + ky * win.dilationH
            if oy < 0 || oy >= l.oh { continue }
            for kx in 0..<win.kernelW {
                let ox = ix * win.strideW - win.padLeft + kx * win.dilationW
                if ox >= 0 && ox < l.ow { kernel(ky * win.kernelW + kx, oy * l.ow + ox) }
            }
        }
    }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        let l = Layout(conv, input: context.inputs[0], output: context.output)
        let win = conv.window, taps = win.kernelH * win.kernelW
        return ForwardPlan(parameters: [conv.weight, conv.bias]) { b in
            let x = b.x, y = b.output, weight = b.parameters[0], bias = b.parameters[1]
            // One task per (batch item, output channel): it owns its output plane.
            return Work(tasks: l.n * l.cout) { t, _ in
                let item = t / l.cout, oc = t % l.cout
                let group = oc / l.outPerGroup, ocg = oc % l.outPerGroup
                let yp = y + t * l.oh * l.ow
                yp.update(repeating: bias[oc], count: l.oh * l.ow)
                for icg in 0..<l.inPerGroup {
                    let ic = group * l.inPerGroup + icg
                    let xp = x + (item * l.cin + ic) * l.h * l.w
                    let wp = weight + (ic * l.outPerGroup + ocg) * taps
                    for iy in 0..<l.h {
                        for ix in 0..<l.w {
                            let v = xp[iy * l.w + ix]
                            ConvTransposeOp.forEachTap(win, l, iy: iy, ix: ix) { k, o in yp[o] += v * wp[k] }
                        }
                    }
                }
            }
        }
    }

    /// The convolution with the same weights (the transpose of the transpose), in every mode:
    /// gx[ic, iy, ix] = Σ gy[oc, oy, ox] · w[ic, oc, ky, kx] over the taps that input reached.
    func backward(_ c: BackwardContext) -> [Work] {
        let l = Layout(conv, input: c.inputShape, output: c.outputShape)
        let win = conv.window, taps = win.kernelH * win.kernelW
        let gx = c.gx, gy = c.gy, set = c.set
        let weight = c.resources.retain(conv.weight)
        return [Work(tasks: l.n * l.cin) { t, _ in
            let item = t / l.cin, ic = t % l.cin, group = ic / l.inPerGroup
            let gxp = gx + t * l.h * l.w
            for iy in 0..<l.h {
                for ix in 0..<l.w {
                    var s: Float = 0
                    for ocg in 0..<l.outPerGroup {
                        let gyp = gy + (item * l.cout + group * l.outPerGroup + ocg) * l.oh * l.ow
                        let wp = weight + (ic * l.outPerGroup + ocg) * taps
                        ConvTransposeOp.forEachTap(win, l, iy: iy, ix: ix) { k, o in s += gyp[o] * wp[k] }
                    }
                    put(gxp + iy * l.w + ix, s, set)
                }
            }
        }]
    }

    /// Output unit o lies between the inputs (o + pad − k·dilation) / stride: the grid is `stride`
    /// times finer, and each unit sees (k − 1)·dilation / stride input units more.
    func receptiveField(_ context: FieldContext) -> ReceptiveField {
        let r = context.first, w = conv.window
        let spanH = Double((w.kernelH - 1) * w.dilationH), spanW = Double((w.kernelW - 1) * w.dilationW)
        let sh = Double(w.strideH), sw = Double(w.strideW)
        return ReceptiveField(startY: r.startY + (Double(w.padTop) - spanH / 2) / sh * r.jumpY,
                              startX: r.startX + (Double(w.padLeft) - spanW / 2) / sw * r.jumpX,
                              jumpY: r.jumpY / sh, jumpX: r.jumpX / sw,
                              sizeY: r.sizeY + spanH / sh * r.jumpY, sizeX: r.sizeX + spanW / sw * r.jumpX)
    }

    func cost(output: Shape) -> OpCost {
        let w = conv.window
        let perOutput = conv.inChannelsPerGroup * w.kernelH * w.kernelW / Swift.max(1, w.strideH * w.strideW)
        return OpCost(macs: output.count * perOutput, parameters: conv.weight.count + conv.bias.count)
    }
}
