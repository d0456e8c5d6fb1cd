import Engine
import Testing

/// Receptive fields follow the windows: checked by formula on a small chain, and against the
/// pixels a unit's gradient actually reaches.
@Suite struct ReceptiveFieldTests {
    static func conv(_ c: Int, k: Int, stride: Int = 1, pad: Int = 0, dilation: Int = 1) -> Operation {
        let w = Window(kernelH: k, kernelW: k, strideH: stride, strideW: stride, dilationH: dilation, dilationW: dilation,
                       padTop: pad, padLeft: pad, padBottom: pad, padRight: pad)
        var weights = [Float](repeating: 0, count: c * c * k * k)
        for i in weights.indices { weights[i] = Float((i * 7919) % 13 + 1) / 13 }
        return .conv(Convolution(window: w, groups: 1, outChannels: c, inChannelsPerGroup: c, weight: weights, bias: nil))
    }

    /// input 3×33×33 → conv3 p1 → conv3 s2 → maxpool2 s2 → conv3 dilation 2 p2 (+ a 1×1 branch, added).
    static func network() throws -> (Network, [Int]) {
        var g = Graph()
        let x = try g.addInput(name: "input", shape: Shape([1, 3, 33, 33]))
        let a = try g.addNode(name: "a", op: conv(3, k: 3, pad: 1), inputs: [x])
        let b = try g.addNode(name: "b", op: conv(3, k: 3, stride: 2), inputs: [a])
        let p = try g.addNode(name: "p", op: .maxPool(Window(kernelH: 2, kernelW: 2, strideH: 2, strideW: 2)), inputs: [b])
        let d = try g.addNode(name: "d", op: conv(3, k: 3, pad: 2, dilation: 2), inputs: [p])
        let e = try g.addNode(name: "e", op: conv(3, k: 1), inputs: [p])
        let s = try g.addNode(name: "s", op: .add, inputs: [d, e])
        g.outputs = [s]
        return (Network(graph: g, threads: 1), [a, b, p, d, s])
    }

    @Test func theFormulaOnAChain() throws {
        let (net, v) = try Self.network()
        let rf = ReceptiveField.all(in: net.graph)
        let a = try #require(rf[v[0]]), b = try #require(rf[v[1]]), p = try #require(rf[v[2]]), d = try #require(rf[v[3]])
        #expect(a.sizeY == 3 && a.jumpY == 1 && a.startY == 0.5)
        #expect(b.sizeY == 5 && b.jumpY == 2 && b.startY == 1.5)
        #expect(p.sizeY == 7 && p.jumpY == 4 && p.startY == 2.5)
        // Dilated 3×3 = 5 taps wide on a grid of 4: 7 + 4·4.
        #expect(d.sizeY == 23 && d.jumpY == 4 && d.startY == 2.5)
        #expect(rf[v[4]] == d, "the Add keeps the widest branch")
    }

    @Test func theGradientOfAUnitStaysInsideItsWindowAndFillsIt() throws {
        let (net, v) = try Self.network()
        for i in 0..<net.input.count { net.input[i] = Float((i * 31) % 17) / 17 + 0.1 }
        net.forward()
        let projector = Projector(network: net)
        let rf = ReceptiveField.all(in: net.graph)
        for (value, y, x) in [(v[1], 7, 7), (v[2], 3, 4), (v[3], 3, 3), (v[4], 2, 5)] {
            let g = try projector.project(value: value, channel: 0, at: (y, x), mode: .gradient)
            var top = 99, left = 99, bottom = -1, right = -1
            for c in 0..<3 { for r in 0..<33 { for col in 0..<33 where g[(c * 33 + r) * 33 + col] != 0 {
                top = min(top, r); bottom = max(bottom, r); left = min(left, col); right = max(right, col)
            } } }
            let w = try #require(rf[value]).window(y: y, x: x)
            #expect(Double(top) >= w.top && Double(bottom + 1) <= w.bottom && Double(left) >= w.left && Double(right + 1) <= w.right,
                    "\(net.graph.values[value].name) (\(y), \(x)): gradient rows \(top)…\(bottom) cols \(left)…\(right) outside \(w)")
            // Without max pooling in the way the gradient fills the window exactly.
            if value == v[1] {
                #expect(Double(top) == w.top && Double(bottom + 1) == w.bottom, "\(w) vs rows \(top)…\(bottom)")
            }
        }
    }
}
