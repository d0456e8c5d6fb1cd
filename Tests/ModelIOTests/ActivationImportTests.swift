import Foundation
import Engine
import ModelIO
import Testing

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
