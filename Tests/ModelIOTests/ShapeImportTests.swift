import Foundation
import Engine
import ModelIO
import Testing

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
