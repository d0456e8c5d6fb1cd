/// Where a unit of a layer looks in the input: the centre of the window that unit (y, x) sees is
/// at `start + y · jump` (rows; the same for columns), and the window is `size` pixels wide,
/// counting every path through the network and padding as if the image went on. Input pixel i
/// covers [i, i + 1), so the input's own receptive field is start 0.5, jump 1, size 1.
public struct ReceptiveField: Sendable, Equatable {
    public var startY: Double, startX: Double
    public var jumpY: Double, jumpX: Double
    public var sizeY: Double, sizeX: Double

    public init(startY: Double, startX: Double, jumpY: Double, jumpX: Double, sizeY: Double, sizeX: Double) {
        self.startY = startY; self.startX = startX; self.jumpY = jumpY; self.jumpX = jumpX; self.sizeY = sizeY; self.sizeX = sizeX
    }

    /// The window of unit (y, x) in input pixels: (top, left, bottom, right), not clipped.
    public func window(y: Int, x: Int) -> (top: Double, left: Double, bottom: Double, right: Double) {
        let cy = startY + Double(y) * jumpY, cx = startX + Double(x) * jumpX
        return (cy - sizeY / 2, cx - sizeX / 2, cy + sizeY / 2, cx + sizeX / 2)
    }

    /// The receptive field of every value of `graph`, by value index (nil for constants and for
    /// values without a spatial map that depends on position: after a global pool or a dense layer
    /// every unit sees the whole input, which is returned as one window covering it).
    public static func all(in graph: Graph) -> [ReceptiveField?] {
        var rf = [ReceptiveField?](repeating: nil, count: graph.values.count)
        let (_, ih, iw) = graph.values[graph.input].shape.chw
        rf[graph.input] = ReceptiveField(startY: 0.5, startX: 0.5, jumpY: 1, jumpX: 1, sizeY: 1, sizeX: 1)
        let whole = ReceptiveField(startY: Double(ih) / 2, startX: Double(iw) / 2, jumpY: 0, jumpX: 0,
                                   sizeY: Double(ih), sizeX: Double(iw))
        for node in graph.nodes {
            let inputs = node.inputs.compactMap { rf[$0] }
            guard !inputs.isEmpty, let source = node.inputs.first(where: { rf[$0] != nil }) else { continue }
            rf[node.output] = node.op.rules.receptiveField(
                FieldContext(inputs: inputs, sourceShape: graph.values[source].shape,
                             output: graph.values[node.output].shape, whole: whole))
        }
        return rf
    }

    /// The field after a convolution or pooling window over a map with this field.
    func through(_ w: Window) -> ReceptiveField {
        let kh = Double((w.kernelH - 1) * w.dilationH + 1), kw = Double((w.kernelW - 1) * w.dilationW + 1)
        return ReceptiveField(startY: startY + ((kh - 1) / 2 - Double(w.padTop)) * jumpY,
                              startX: startX + ((kw - 1) / 2 - Double(w.padLeft)) * jumpX,
                              jumpY: jumpY * Double(w.strideH), jumpX: jumpX * Double(w.strideW),
                              sizeY: sizeY + (kh - 1) * jumpY, sizeX: sizeX + (kw - 1) * jumpX)
    }
}
