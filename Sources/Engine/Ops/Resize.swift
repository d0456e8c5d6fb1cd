import Foundation

/// Resize and Upsample over the plane of an NCHW tensor, nearest or (bi)linear, with ONNX's
/// coordinate transformation and nearest rounding modes.
public struct Resize: Sendable, Hashable {
    public enum Mode: Sendable, Hashable { case nearest, linear }
    /// How an output coordinate maps to an input one (ONNX coordinate_transformation_mode).
    public enum Coordinates: Sendable, Hashable { case halfPixel, pytorchHalfPixel, alignCorners, asymmetric, tfHalfPixelForNN }
    /// How nearest mode rounds (ONNX nearest_mode).
    public enum Rounding: Sendable, Hashable { case roundPreferFloor, roundPreferCeil, floor, ceil }

    public var mode: Mode
    public var coordinates: Coordinates
    public var rounding: Rounding
    public var outH: Int, outW: Int
    /// Output size over input size, per axis (given, or from the sizes).
    public var scaleH: Double, scaleW: Double

    public init(mode: Mode, coordinates: Coordinates, rounding: Rounding, outH: Int, outW: Int, scaleH: Double, scaleW: Double) {
        self.mode = mode; self.coordinates = coordinates; self.rounding = rounding
        self.outH = outH; self.outW = outW; self.scaleH = scaleH; self.scaleW = scaleW
    }

    /// The input coordinate of output index `o` along an axis of `input` → `output` elements.
    func source(_ o: Int, input: Int, output: Int, scale: Double) -> Double {
        let x = Double(o)
        switch coordinates {
        case .halfPixel: return (x + 0.5) / scale - 0.5
        case .pytorchHalfPixel: return output > 1 ? (x + 0.5) / scale - 0.5 : 0
        case .alignCorners: return output == 1 ? 0 : x * Double(input - 1) / Double(output - 1)
        case .asymmetric: return x / scale
        case .tfHalfPixelForNN: return (x + 0.5) / scale
        }
    }

    /// Per output index along one axis: the two input indices it blends and the second's weight
    /// (nearest: one index, weight 0).
    func taps(input: Int, output: Int, scale: Double) -> [(Int, Int, Float)] {
        (0..<output).map { o in
            let s = source(o, input: input, output: output, scale: scale)
            switch mode {
            case .nearest:
                let r: Double
                switch rounding {
                case .roundPreferFloor: r = s - s.rounded(.down) == 0.5 ? s.rounded(.down) : s.rounded()
                case .roundPreferCeil: r = s - s.rounded(.down) == 0.5 ? s.rounded(.up) : s.rounded()
                case .floor: r = s.rounded(.down)
                case .ceil: r = s.rounded(.up)
                }
                let i = Swift.min(Swift.max(Int(r), 0), input - 1)
                return (i, i, 0)
            case .linear:
                let c = Swift.min(Swift.max(s, 0), Double(input - 1))
                let i0 = Int(c.rounded(.down)), i1 = Swift.min(i0 + 1, input - 1)
                return (i0, i1, Float(c - Double(i0)))
            }
        }
    }
}

struct ResizeOp: Op {
    let resize: Resize

    var kindName: String { "Resize" }

    func outputShape(_ check: ShapeCheck) throws -> Shape {
        try check.inputs(1)
        let x = try check.nchw()
        guard resize.outH > 0, resize.outW > 0 else { throw check.fail("Resize to \(resize.outH)×\(resize.outW) is empty") }
        return Shape([x.n, x.c, resize.outH, resize.outW])
    }

    private func plan(_ input: Shape) -> (rows: [(Int, Int, Float)], cols: [(Int, Int, Float)], planes: Int, h: Int, w: Int) {
        let (h, w) = (input[2], input[3])
        return (resize.taps(input: h, output: resize.outH, scale: resize.scaleH),
                resize.taps(input: w, output: resize.outW, scale: resize.scaleW), input[0] * input[1], h, w)
    }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        let (rows, cols, planes, h, w) = plan(context.inputs[0])
        let oh = rows.count, ow = cols.count
        return ForwardPlan { b in
            let x = b.x, y = b.output
            return Work(tasks: planes) { p, _ in
                let xp = x + p * h * w, yp = y + p * oh * ow
                for (oy, (y0, y1, wy)) in rows.enumerated() {
                    let r0 = xp + y0 * w, r1 = xp + y1 * w
                    for (ox, (x0, x1, wx)) in cols.enumerated() {
                        let top = r0[x0] + (r0[x1] - r0[x0]) * wx, bottom = r1[x0] + (r1[x1] - r1[x0]) * wx
                        yp[oy * ow + ox] = top + (bottom - top) * wy
                    }
                }
            }
        }
    }

    /// Each output's gradient goes back to the input elements it blended, with their weights
    /// (nearest: all of it to the one it copied), in every mode.
    func backward(_ c: BackwardContext) -> [Work] {
        let (rows, cols, planes, h, w) = plan(c.inputShape)
        let oh = rows.count, ow = cols.count
        let gx = c.gx, gy = c.gy, set = c.set
        return [Work(tasks: planes) { p, _ in
            let gxp = gx + p * h * w, gyp = gy + p * oh * ow
            if set { gxp.update(repeating: 0, count: h * w) }
            for (oy, (y0, y1, wy)) in rows.enumerated() {
                for (ox, (x0, x1, wx)) in cols.enumerated() {
                    let g = gyp[oy * ow + ox]
                    gxp[y0 * w + x0] += g * (1 - wy) * (1 - wx)
                    gxp[y0 * w + x1] += g * (1 - wy) * wx
                    gxp[y1 * w + x0] += g * wy * (1 - wx)
                    gxp[y1 * w + x1] += g * wy * wx
                }
            }
        }]
    }

    /// The grid is `scale` times finer; a linear blend sees one more input unit.
    func receptiveField(_ context: FieldContext) -> ReceptiveField {
        let r = context.first
        let sh = resize.scaleH, sw = resize.scaleW, extra: Double = resize.mode == .linear ? 1 : 0
        return ReceptiveField(startY: r.startY + (0.5 / sh - 0.5) * r.jumpY, startX: r.startX + (0.5 / sw - 0.5) * r.jumpX,
                              jumpY: r.jumpY / sh, jumpX: r.jumpX / sw,
                              sizeY: r.sizeY + extra * r.jumpY, sizeX: r.sizeX + extra * r.jumpX)
    }
}
