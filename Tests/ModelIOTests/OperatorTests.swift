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

@Suite struct ActivationImportTests {
    func single(_ op: String, opset: Int = 13, inputs extra: [String] = [], _ attrs: [Onnx_AttributeProto] = [],
                setup: (inout ONNXBuilder) -> Void = { _ in }) throws -> Engine.Operation {
        var b = ONNXBuilder(opset: opset)
        setup(&b)
        b.node(op, ["x"] + extra, ["y"], attrs)
        b.output("y")
        return try #require(try b.load().node("y")).op
    }

    @Test func reluAndSigmoid() throws {
        guard case .relu = try single("Relu") else { Issue.record("Relu"); return }
        guard case .sigmoid = try single("Sigmoid") else { Issue.record("Sigmoid"); return }
    }

    @Test func tanh() throws {
        guard case .tanh = try single("Tanh") else { Issue.record("Tanh"); return }
    }

    @Test func leakyReluAlpha() throws {
        guard case .leakyRelu(let a) = try single("LeakyRelu") else { Issue.record("LeakyRelu"); return }
        #expect(a == 0.01)
        guard case .leakyRelu(let b) = try single("LeakyRelu", [attr("alpha", float: 0.2)]) else { Issue.record("LeakyRelu"); return }
        #expect(b == 0.2)
    }

    @Test func clipFromAttributesBeforeOpset11() throws {
        guard case .clip(let lo, let hi) = try single("Clip", opset: 6, [attr("min", float: 0), attr("max", float: 6)]) else {
            Issue.record("Clip"); return
        }
        #expect(lo == 0 && hi == 6)
        guard case .clip(let lo2, let hi2) = try single("Clip", opset: 6, [attr("max", float: 6)]) else { Issue.record("Clip"); return }
        #expect(lo2 == -.infinity && hi2 == 6)
    }

    @Test func clipFromInputsFromOpset11() throws {
        let op = try single("Clip", opset: 11, inputs: ["lo", "hi"]) { b in
            b.weight("lo", [], [0])
            b.weight("hi", [], [6])
        }
        guard case .clip(let lo, let hi) = op else { Issue.record("Clip"); return }
        #expect(lo == 0 && hi == 6)
    }

    @Test func clipWithAnEmptyMinNameAndAConstantNodeMax() throws {
        var b = ONNXBuilder(opset: 13)
        b.node("Constant", [], ["six"], [attr("value", tensor: floatTensor("", [], [6]))])
        b.node("Clip", ["x", "", "six"], ["y"])
        b.output("y")
        guard case .clip(let lo, let hi) = try #require(try b.load().node("y")).op else { Issue.record("Clip"); return }
        #expect(lo == -.infinity && hi == 6)
    }

    @Test func clipWithoutBoundsIsUnbounded() throws {
        guard case .clip(let lo, let hi) = try single("Clip", opset: 13) else { Issue.record("Clip"); return }
        #expect(lo == -.infinity && hi == .infinity)
    }

    @Test func clipBoundMustBeAScalarConstant() {
        #expect(modelError {
            try single("Clip", opset: 13, inputs: ["lo"]) { b in b.weight("lo", [2], [0, 1]) }
        }.contains("must be a scalar"))
        #expect(modelError {
            try single("Clip", opset: 13, inputs: ["x"])
        }.contains("must be an initializer or a Constant"))
    }

    @Test func softmaxDefaultAxisFollowsTheOpset() throws {
        // [1, 10]: axis 1 either way.
        var b = ONNXBuilder(opset: 11, shape: [1, 10, 1, 1])
        b.node("Flatten", ["x"], ["f"])
        b.node("Softmax", ["f"], ["y"])
        b.output("y")
        guard case .softmax(let a11) = try #require(try b.load().node("y")).op else { Issue.record("Softmax"); return }
        #expect(a11 == 1)

        // Rank 4 at opset 13: the default -1 is the last axis.
        guard case .softmax(let a13) = try single("Softmax", opset: 13) else { Issue.record("Softmax"); return }
        #expect(a13 == 3)
        // An explicit negative axis is normalized.
        guard case .softmax(let neg) = try single("Softmax", opset: 13, [attr("axis", int: -3)]) else { Issue.record("Softmax"); return }
        #expect(neg == 1)
    }

    @Test func softmaxBeforeOpset13CoversAllTrailingDimensions() throws {
        // Opset 11, axis 1 on [1, 3, 8, 8]: softmax over all 192 values, as a flatten, a softmax and
        // a reshape back.
        var b = ONNXBuilder(opset: 11)
        b.node("Softmax", ["x"], ["y"])
        b.output("y")
        let m = try b.load()
        #expect(m.graph.nodes.count == 3)
        #expect(m.shape("y") == Shape([1, 3, 8, 8]))
        let soft = m.graph.nodes[1]
        guard case .softmax(let axis) = soft.op else { Issue.record("no softmax"); return }
        #expect(axis == 1 && m.graph.values[soft.inputs[0]].shape == Shape([1, 192]))
    }

    @Test func softmaxAxisOutOfRange() {
        #expect(modelError { try single("Softmax", [attr("axis", int: 4)]) }.contains("axis 4 is outside"))
    }
}

@Suite struct PoolingImportTests {
    func pool(_ op: String, shape: [Int] = [1, 3, 8, 8], _ attrs: [Onnx_AttributeProto]) throws -> Model {
        var b = ONNXBuilder(shape: shape)
        b.node(op, ["x"], ["y"], attrs)
        b.output("y")
        return try b.load()
    }

    @Test func maxPoolWindowAndCeilMode() throws {
        let m = try pool("MaxPool", shape: [1, 3, 7, 7], [attr("kernel_shape", ints: [3, 3]), attr("strides", ints: [2, 2]),
                                                        attr("ceil_mode", int: 1)])
        guard case .maxPool(let w) = try #require(m.node("y")).op else { Issue.record("MaxPool"); return }
        #expect(w.kernelH == 3 && w.strideW == 2 && w.ceilMode)
        #expect(m.shape("y") == Shape([1, 3, 3, 3]))
        let floor = try pool("MaxPool", shape: [1, 3, 8, 8], [attr("kernel_shape", ints: [3, 3]), attr("strides", ints: [2, 2])])
        #expect(floor.shape("y") == Shape([1, 3, 3, 3]))
        let ceil = try pool("MaxPool", shape: [1, 3, 8, 8], [attr("kernel_shape", ints: [3, 3]), attr("strides", ints: [2, 2]),
                                                           attr("ceil_mode", int: 1)])
        #expect(ceil.shape("y") == Shape([1, 3, 4, 4]))
    }

    @Test func maxPoolPadsAndSameUpper() throws {
        let m = try pool("MaxPool", [attr("kernel_shape", ints: [2, 2]), attr("auto_pad", string: "SAME_UPPER")])
        guard case .maxPool(let w) = try #require(m.node("y")).op else { Issue.record("MaxPool"); return }
        #expect(pads(w) == [0, 0, 1, 1])
        #expect(m.shape("y") == Shape([1, 3, 8, 8]))
    }

    @Test func maxPoolRefusesDilationsAndStorageOrder() {
        #expect((try? pool("MaxPool", [attr("kernel_shape", ints: [2, 2]), attr("dilations", ints: [2, 2])]))?.shape("y") == Shape([1, 3, 6, 6]))
        #expect(modelError { try pool("MaxPool", [attr("kernel_shape", ints: [2, 2]), attr("storage_order", int: 1)]) }
            .contains("storage_order"))
        #expect(modelError { try pool("MaxPool", []) }.contains("'kernel_shape' is missing"))
        #expect(modelError { try pool("MaxPool", [attr("kernel_shape", ints: [2, 2, 2])]) }.contains("expected 2"))
    }

    @Test func averagePoolCountIncludePad() throws {
        let m = try pool("AveragePool", [attr("kernel_shape", ints: [3, 3]), attr("pads", ints: [1, 1, 1, 1]),
                                         attr("count_include_pad", int: 1)])
        guard case .averagePool(let w, let include) = try #require(m.node("y")).op else { Issue.record("AveragePool"); return }
        #expect(include && w.padTop == 1 && w.padRight == 1)
        let n = try pool("AveragePool", [attr("kernel_shape", ints: [3, 3])])
        guard case .averagePool(_, let include2) = try #require(n.node("y")).op else { Issue.record("AveragePool"); return }
        #expect(!include2)
        #expect(n.shape("y") == Shape([1, 3, 6, 6]))
    }

    @Test func globalAveragePoolAndLRN() throws {
        let g = try pool("GlobalAveragePool", [])
        #expect(g.shape("y") == Shape([1, 3, 1, 1]))
        let l = try pool("LRN", [attr("size", int: 5), attr("alpha", float: 2e-4), attr("beta", float: 0.5)])
        guard case .lrn(let p) = try #require(l.node("y")).op else { Issue.record("LRN"); return }
        #expect(p == LocalResponseNorm(size: 5, alpha: 2e-4, beta: 0.5, bias: 1))
        #expect(modelError { try pool("LRN", []) }.contains("'size' is missing"))
    }
}

@Suite struct ShapeImportTests {
    @Test func addAndMulTakeInitializersOnEitherSide() throws {
        var b = ONNXBuilder()
        b.weight("bias", [1, 3, 1, 1], [1, 2, 3])
        b.weight("gain", [3, 1, 1], [4, 5, 6], raw: false)
        b.node("Add", ["bias", "x"], ["a"])
        b.node("Mul", ["a", "gain"], ["y"])
        b.output("y")
        let m = try b.load()
        let add = try #require(m.node("a")), mul = try #require(m.node("y"))
        guard case .add = add.op, case .mul = mul.op else { Issue.record("ops"); return }
        #expect(m.graph.values[add.inputs[0]].constant == [1, 2, 3])
        #expect(m.graph.values[add.inputs[0]].shape == Shape([1, 3, 1, 1]))
        #expect(m.graph.values[mul.inputs[1]].constant == [4, 5, 6])
        #expect(m.shape("y") == Shape([1, 3, 8, 8]))
    }

    @Test func addOfTwoActivationsAndBroadcastErrors() throws {
        var b = ONNXBuilder()
        b.node("Relu", ["x"], ["r"])
        b.node("Add", ["x", "r"], ["y"])
        b.output("y")
        #expect(try b.load().shape("y") == Shape([1, 3, 8, 8]))

        var bad = ONNXBuilder()
        bad.weight("c", [5], ramp(5))
        bad.node("Add", ["x", "c"], ["y"])
        bad.output("y")
        let e = modelError { try bad.load() }
        #expect(e.contains("Node 'y' (Add)") && e.contains("broadcast"))
    }

    @Test func legacyBroadcastAxisBeforeOpset7() throws {
        var b = ONNXBuilder(opset: 6)
        b.weight("c", [3], [1, 2, 3])
        b.node("Add", ["x", "c"], ["y"], [attr("broadcast", int: 1), attr("axis", int: 1)])
        b.output("y")
        let m = try b.load()
        let add = try #require(m.node("y"))
        #expect(m.graph.values[add.inputs[1]].shape == Shape([3, 1, 1]))
        #expect(m.shape("y") == Shape([1, 3, 8, 8]))
    }

    @Test func concatNegativeAxis() throws {
        var b = ONNXBuilder()
        b.node("Relu", ["x"], ["r"])
        b.node("Concat", ["x", "r"], ["y"], [attr("axis", int: -3)])
        b.output("y")
        let m = try b.load()
        guard case .concat(let axis) = try #require(m.node("y")).op else { Issue.record("Concat"); return }
        #expect(axis == 1)
        #expect(m.shape("y") == Shape([1, 6, 8, 8]))
    }

    @Test func flattenAxis() throws {
        for (axis, expected) in [(nil, [1, 192]), (0, [1, 192]), (2, [3, 64]), (-1, [24, 8]), (4, [192, 1])] as [(Int?, [Int])] {
            var b = ONNXBuilder()
            b.node("Flatten", ["x"], ["y"], axis.map { [attr("axis", int: $0)] } ?? [])
            b.output("y")
            let m = try b.load()
            guard case .reshape(let s) = try #require(m.node("y")).op else { Issue.record("Flatten"); continue }
            #expect(s == Shape(expected), "axis \(String(describing: axis))")
        }
    }

    func reshape(_ target: [Int64], raw: Bool = false, constantNode: Bool = false, allowZero: Bool = false) throws -> Model {
        var b = ONNXBuilder()
        if constantNode {
            b.node("Constant", [], ["s"], [attr("value", tensor: int64Tensor("", [target.count], target, raw: raw))])
        } else {
            b.ints("s", [target.count], target, raw: raw)
        }
        b.node("Reshape", ["x", "s"], ["y"], allowZero ? [attr("allowzero", int: 1)] : [])
        b.output("y")
        return try b.load()
    }

    @Test func reshapeZeroCopiesAndMinusOneInfers() throws {
        #expect(try reshape([0, -1]).shape("y") == Shape([1, 192]))
        #expect(try reshape([0, 3, -1], raw: true).shape("y") == Shape([1, 3, 64]))
        #expect(try reshape([-1, 0, 0, 0], constantNode: true).shape("y") == Shape([1, 3, 8, 8]))
        #expect(try reshape([1, 0, 64]).shape("y") == Shape([1, 3, 64]))
        #expect(try reshape([2, 96]).shape("y") == Shape([2, 96]))
    }

    @Test func reshapeErrors() {
        #expect(modelError { try reshape([-1, -1]) }.contains("more than one -1"))
        #expect(modelError { try reshape([-1, 5]) }.contains("cannot infer"))
        #expect(modelError { try reshape([0, 0, 0, 0, 0]) }.contains("copies dimension 4"))
        #expect(modelError { try reshape([7, 7]) }.contains("Node 'y' (Reshape)"))
        #expect(modelError { try reshape([-2, 96]) }.contains("holds -2"))
        #expect(modelError { try reshape([0, -1], allowZero: true) }.contains("cannot infer"))
        var b = ONNXBuilder()
        b.weight("s", [2], [1, 192])
        b.node("Reshape", ["x", "s"], ["y"])
        b.output("y")
        #expect(modelError { try b.load() }.contains("must be an INT64 tensor"))
    }

    @Test func reshapeFromAttributeBeforeOpset5() throws {
        var b = ONNXBuilder(opset: 4)
        b.node("Reshape", ["x"], ["y"], [attr("shape", ints: [1, -1])])
        b.output("y")
        #expect(try b.load().shape("y") == Shape([1, 192]))
    }

    @Test func padFromAttributesBeforeOpset11() throws {
        var b = ONNXBuilder(opset: 2)
        b.node("Pad", ["x"], ["y"], [attr("pads", ints: [0, 0, 1, 2, 0, 0, 3, 4]), attr("value", float: 0.5)])
        b.output("y")
        let m = try b.load()
        guard case .pad(let begins, let ends, let value) = try #require(m.node("y")).op else { Issue.record("Pad"); return }
        #expect(begins == [0, 0, 1, 2] && ends == [0, 0, 3, 4] && value == 0.5)
        #expect(m.shape("y") == Shape([1, 3, 12, 14]))
    }

    @Test func padFromInputsFromOpset11() throws {
        var b = ONNXBuilder(opset: 11)
        b.ints("p", [8], [0, 0, 1, 1, 0, 0, 1, 1], raw: true)
        b.weight("v", [], [-1])
        b.node("Pad", ["x", "p", "v"], ["y"])
        b.output("y")
        let m = try b.load()
        guard case .pad(let begins, let ends, let value) = try #require(m.node("y")).op else { Issue.record("Pad"); return }
        #expect(begins == [0, 0, 1, 1] && ends == [0, 0, 1, 1] && value == -1)
    }

    @Test func padWithAxesFromOpset18() throws {
        var b = ONNXBuilder(opset: 18)
        b.ints("p", [4], [1, 2, 3, 4])
        b.ints("axes", [2], [-2, -1])
        b.node("Pad", ["x", "p", "", "axes"], ["y"])
        b.output("y")
        guard case .pad(let begins, let ends, let value) = try #require(try b.load().node("y")).op else { Issue.record("Pad"); return }
        #expect(begins == [0, 0, 1, 2] && ends == [0, 0, 3, 4] && value == 0)
    }

    @Test func padRefusesOtherModesAndWrongCounts() {
        var reflect = ONNXBuilder(opset: 11)
        reflect.ints("p", [8], [0, 0, 1, 1, 0, 0, 1, 1])
        reflect.node("Pad", ["x", "p"], ["y"], [attr("mode", string: "wrap")])
        reflect.output("y")
        #expect(modelError { try reflect.load() }.contains("mode 'wrap' is not supported"))
        var short = ONNXBuilder(opset: 11)
        short.ints("p", [4], [1, 1, 1, 1])
        short.node("Pad", ["x", "p"], ["y"])
        short.output("y")
        #expect(modelError { try short.load() }.contains("4 pads for 4 axes"))
    }

    @Test func gemmTransBFoldsAlphaAndBeta() throws {
        // B given as [out, in] = [2, 3] (transB 1), alpha 2, beta 3, C broadcast from one value.
        var b = ONNXBuilder(shape: [1, 3, 1, 1])
        b.node("Flatten", ["x"], ["f"])
        b.weight("B", [2, 3], [1, 2, 3, 4, 5, 6])
        b.weight("C", [1], [0.5])
        b.node("Gemm", ["f", "B", "C"], ["y"], [attr("transB", int: 1), attr("alpha", float: 2), attr("beta", float: 3)])
        b.output("y")
        let m = try b.load()
        guard case .dense(let d) = try #require(m.node("y")).op else { Issue.record("Gemm"); return }
        #expect(d.inFeatures == 3 && d.outFeatures == 2)
        #expect(d.weight == [2, 4, 6, 8, 10, 12])
        #expect(d.bias == [1.5, 1.5])
        #expect(m.shape("y") == Shape([1, 2]))
    }

    @Test func gemmWithoutTransBTransposes() throws {
        // B given as [in, out] = [3, 2]; stored as [out, in].
        var b = ONNXBuilder(shape: [1, 3, 1, 1])
        b.node("Flatten", ["x"], ["f"])
        b.weight("B", [3, 2], [1, 2, 3, 4, 5, 6])
        b.weight("C", [1, 2], [7, 8])
        b.node("Gemm", ["f", "B", "C"], ["y"])
        b.output("y")
        guard case .dense(let d) = try #require(try b.load().node("y")).op else { Issue.record("Gemm"); return }
        #expect(d.weight == [1, 3, 5, 2, 4, 6])
        #expect(d.bias == [7, 8])
    }

    @Test func gemmErrors() {
        func gemm(_ attrs: [Onnx_AttributeProto], c: [Float]? = nil) throws -> Model {
            var b = ONNXBuilder(shape: [1, 3, 1, 1])
            b.node("Flatten", ["x"], ["f"])
            b.weight("B", [3, 2], ramp(6))
            if let c { b.weight("C", [c.count], c) }
            b.node("Gemm", ["f", "B"] + (c == nil ? [] : ["C"]), ["y"], attrs)
            b.output("y")
            return try b.load()
        }
        #expect(modelError { try gemm([attr("transA", int: 1)]) }.contains("transA 1 is not supported"))
        #expect(modelError { try gemm([], c: [1, 2, 3]) }.contains("bias of 2 values or 1"))
        #expect(modelError { try gemm([attr("transB", int: 1)]) }.contains("Gemm"))
    }

    @Test func matMulWithAnInitializer() throws {
        var b = ONNXBuilder(shape: [1, 3, 1, 1])
        b.node("Flatten", ["x"], ["f"])
        b.weight("W", [3, 2], [1, 2, 3, 4, 5, 6])
        b.node("MatMul", ["f", "W"], ["y"])
        b.output("y")
        let m = try b.load()
        guard case .dense(let d) = try #require(m.node("y")).op else { Issue.record("MatMul"); return }
        #expect(d.weight == [1, 3, 5, 2, 4, 6] && d.bias == [0, 0])
        #expect(m.shape("y") == Shape([1, 2]))
    }

    @Test func dropoutAndIdentity() throws {
        var b = ONNXBuilder(opset: 12)
        b.node("Dropout", ["x"], ["d", "mask"], [attr("ratio", float: 0.5)])
        b.node("Identity", ["d"], ["y"])
        b.output("y")
        let m = try b.load()
        guard case .identity = try #require(m.node("d")).op, case .identity = try #require(m.node("y")).op else {
            Issue.record("identity"); return
        }

        var used = ONNXBuilder(opset: 12)
        used.node("Dropout", ["x"], ["d", "mask"])
        used.node("Add", ["d", "mask"], ["y"])
        used.output("y")
        let e = modelError { try used.load() }
        #expect(e.contains("Node 'y' (Add)") && e.contains("'mask'") && e.contains("does not compute"))
    }

    @Test func identityOfAnInitializerStaysAConstant() throws {
        var b = ONNXBuilder()
        b.weight("w", [4, 3, 1, 1], ramp(12))
        b.node("Identity", ["w"], ["w2"])
        b.node("Conv", ["x", "w2"], ["y"])
        b.output("y")
        let m = try b.load()
        #expect(m.graph.nodes.count == 1)
        #expect(m.shape("y") == Shape([1, 4, 8, 8]))
    }

    @Test func constantNodeForms() throws {
        var b = ONNXBuilder()
        b.node("Constant", [], ["k"], [attr("value_float", float: 2)])
        b.node("Constant", [], ["c"], [attr("value_floats", floats: [1, 2, 3])])
        b.node("Constant", [], ["shape"], [attr("value_ints", ints: [1, -1])])
        b.node("Mul", ["x", "k"], ["m"])
        b.node("Reshape", ["m", "shape"], ["y"])
        b.output("y")
        let m = try b.load()
        #expect(m.shape("y") == Shape([1, 192]))
        let mul = try #require(m.node("m"))
        #expect(m.graph.values[mul.inputs[1]].constant == [2])
    }

    @Test func graphOutputsAreMarked() throws {
        var b = ONNXBuilder()
        b.node("Relu", ["x"], ["r"])
        b.node("Sigmoid", ["r"], ["s"])
        b.output("s", "r")
        let m = try b.load()
        #expect(m.graph.outputs.map { m.graph.values[$0].name } == ["s", "r"])
    }
}
