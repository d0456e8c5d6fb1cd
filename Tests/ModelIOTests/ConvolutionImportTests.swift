import Foundation
import Engine
import ModelIO
import Testing

/// A window's pads as [top, left, bottom, right].
func pads(_ w: Window) -> [Int] { [w.padTop, w.padLeft, w.padBottom, w.padRight] }

/// How each ONNX operator's attributes and inputs map onto engine operations.

@Suite struct ConvolutionImportTests {
    func convModel(autoPad: String? = nil, pads: [Int]? = nil, strides: [Int]? = nil, kernel: Int = 3,
                   dilations: [Int]? = nil, size: Int = 8, bias: Bool = true) -> ONNXBuilder {
        var b = ONNXBuilder(shape: [1, 3, size, size])
        b.weight("w", [4, 3, kernel, kernel], ramp(4 * 3 * kernel * kernel))
        if bias { b.weight("b", [4], [1, 2, 3, 4]) }
        var attrs: [Onnx_AttributeProto] = [attr("kernel_shape", ints: [kernel, kernel])]
        if let autoPad { attrs.append(attr("auto_pad", string: autoPad)) }
        if let pads { attrs.append(attr("pads", ints: pads)) }
        if let strides { attrs.append(attr("strides", ints: strides)) }
        if let dilations { attrs.append(attr("dilations", ints: dilations)) }
        b.node("Conv", bias ? ["x", "w", "b"] : ["x", "w"], ["y"], name: "conv0", attrs)
        b.output("y")
        return b
    }

    func conv(_ m: Model, _ name: String = "y") throws -> Convolution {
        let node = try #require(m.node(name))
        guard case .conv(let c) = node.op else { Issue.record("\(name) is \(node.op.kindName), not Conv"); throw CancellationError() }
        return c
    }

    @Test func weightsBiasAndExplicitPads() throws {
        let m = try convModel(pads: [1, 2, 3, 4]).load()
        let c = try conv(m)
        #expect(c.outChannels == 4 && c.inChannelsPerGroup == 3 && c.groups == 1)
        #expect(c.weight == ramp(108))
        #expect(c.bias == [1, 2, 3, 4])
        // ONNX pads are [x1_begin, x2_begin, x1_end, x2_end] = [top, left, bottom, right].
        #expect(c.window.padTop == 1 && c.window.padLeft == 2 && c.window.padBottom == 3 && c.window.padRight == 4)
        #expect(m.shape("y") == Shape([1, 4, 8 + 4 - 2, 8 + 6 - 2]))
    }

    @Test func missingBiasIsZero() throws {
        let c = try conv(try convModel(bias: false).load())
        #expect(c.bias == [0, 0, 0, 0])
    }

    @Test func sameUpperPutsTheExtraPadAtTheEnd() throws {
        // 8 wide, kernel 3, stride 2: output 4, total pad (4-1)*2+3-8 = 1, all of it at the end.
        let m = try convModel(autoPad: "SAME_UPPER", strides: [2, 2]).load()
        let w = try conv(m).window
        #expect(w.padTop == 0 && w.padLeft == 0 && w.padBottom == 1 && w.padRight == 1)
        #expect(m.shape("y") == Shape([1, 4, 4, 4]))
    }

    @Test func sameLowerPutsTheExtraPadAtTheStart() throws {
        let m = try convModel(autoPad: "SAME_LOWER", strides: [2, 2]).load()
        let w = try conv(m).window
        #expect(w.padTop == 1 && w.padLeft == 1 && w.padBottom == 0 && w.padRight == 0)
        #expect(m.shape("y") == Shape([1, 4, 4, 4]))
    }

    @Test func sameUpperOddTotalWithEvenKernel() throws {
        // Kernel 2, stride 1 on 8: total pad 1, at the end for SAME_UPPER.
        let w = try conv(try convModel(autoPad: "SAME_UPPER", kernel: 2).load()).window
        #expect(pads(w) == [0, 0, 1, 1])
        // Kernel 3, stride 1: symmetric 1/1.
        let w3 = try conv(try convModel(autoPad: "SAME_UPPER").load()).window
        #expect(pads(w3) == [1, 1, 1, 1])
    }

    @Test func sameWithDilation() throws {
        // Kernel 3 dilated by 2 spans 5: total pad 4 for stride 1.
        let m = try convModel(autoPad: "SAME_UPPER", dilations: [2, 2]).load()
        let w = try conv(m).window
        #expect(w.dilationH == 2 && w.dilationW == 2)
        #expect(pads(w) == [2, 2, 2, 2])
        #expect(m.shape("y") == Shape([1, 4, 8, 8]))
    }

    @Test func validIgnoresPads() throws {
        let m = try convModel(autoPad: "VALID", pads: [1, 1, 1, 1]).load()
        let w = try conv(m).window
        #expect(pads(w) == [0, 0, 0, 0])
        #expect(m.shape("y") == Shape([1, 4, 6, 6]))
    }

    @Test func unknownAutoPadIsAnError() {
        let e = modelError { try convModel(autoPad: "SAME").load() }
        #expect(e.contains("auto_pad 'SAME'") && e.contains("Node 'y' (Conv)"))
    }

    @Test func groupedAndDepthwise() throws {
        var b = ONNXBuilder(shape: [1, 4, 6, 6])
        b.weight("dw", [4, 1, 3, 3], ramp(36))
        b.weight("gw", [8, 2, 1, 1], ramp(16))
        b.node("Conv", ["x", "dw"], ["d"], [attr("group", int: 4), attr("pads", ints: [1, 1, 1, 1])])
        b.node("Conv", ["d", "gw"], ["g"], [attr("group", int: 2)])
        b.output("g")
        let m = try b.load()
        let d = try conv(m, "d"), g = try conv(m, "g")
        #expect(d.groups == 4 && d.inChannelsPerGroup == 1 && d.outChannels == 4)
        #expect(g.groups == 2 && g.inChannelsPerGroup == 2 && g.outChannels == 8)
        #expect(m.shape("g") == Shape([1, 8, 6, 6]))
    }

    @Test func kernelShapeMustMatchTheWeight() {
        var b = ONNXBuilder()
        b.weight("w", [4, 3, 3, 3], ramp(108))
        b.node("Conv", ["x", "w"], ["y"], [attr("kernel_shape", ints: [5, 5])])
        b.output("y")
        #expect(modelError { try b.load() }.contains("kernel_shape"))
    }

    @Test func weightMustBeAnInitializer() {
        var b = ONNXBuilder()
        b.node("Relu", ["x"], ["r"])
        b.node("Conv", ["x", "r"], ["y"])
        b.output("y")
        let e = modelError { try b.load() }
        #expect(e.contains("Node 'y' (Conv)") && e.contains("weight 'r'") && e.contains("initializer"))
    }

    @Test func biasOfTheWrongLength() {
        var b = ONNXBuilder()
        b.weight("w", [4, 3, 3, 3], ramp(108))
        b.weight("b", [3], [1, 2, 3])
        b.node("Conv", ["x", "w", "b"], ["y"])
        b.output("y")
        #expect(modelError { try b.load() }.contains("bias has shape [3], expected [4]"))
    }

    @Test func channelMismatchNamesTheNode() {
        var b = ONNXBuilder()
        b.weight("w", [4, 5, 3, 3], ramp(180))
        b.node("Conv", ["x", "w"], ["features/conv1"], name: "Conv_0")
        b.output("features/conv1")
        let e = modelError { try b.load() }
        #expect(e.hasPrefix("/nonexistent/test.onnx: Node 'features/conv1' (Conv): "))
        #expect(e.contains("input channels"))
    }

    @Test func threeDimensionalConvolutionIsRefused() {
        var b = ONNXBuilder()
        b.weight("w", [4, 3, 3], ramp(36))
        b.node("Conv", ["x", "w"], ["y"])
        b.output("y")
        #expect(modelError { try b.load() }.contains("only 2-D convolutions"))
    }
}
