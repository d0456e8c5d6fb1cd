import Foundation
import Engine
import ModelIO
import TestSupport
import Testing

/// Graphs in the shapes real exporters emit, loaded and compared with onnxruntime node by node
/// (1e-4 relative): Caffe2's weights-as-inputs with a Reshape of a constant, torch's flatten chain,
/// a tf2onnx NHWC graph and a ShuffleNet channel shuffle.
@Suite("Exporter graphs against onnxruntime", .enabled(if: ORTReference.missing == nil, "no .venv with onnxruntime: run Scripts/setup"))
struct ExporterGraphTests {
    static func randomInput(_ count: Int, seed: UInt64) -> [Float] {
        var g = SplitMix64(seed: seed)
        return uniformFloats(count, using: &g)
    }

    static func weights(_ count: Int, seed: UInt64) -> [Float] {
        var g = SplitMix64(seed: seed)
        return uniformFloats(count, in: -0.5...0.5, using: &g)
    }

    /// Loads `b` from a file, compares it with onnxruntime and returns the model.
    @discardableResult
    static func check(_ b: ONNXBuilder, referenceInput: (([Float]) -> ([Int], [Float]))? = nil,
                      sourceLocation: SourceLocation = #_sourceLocation) throws -> Model {
        let (dir, path) = try b.write()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try ModelLoader.load(path: path)
        let input = randomInput(model.graph.values[model.graph.input].shape.count, seed: 7)
        let c = try ORTReference.compare(model, path: path, input: input, referenceInput: referenceInput?(input))
        print("\(b.model.graph.name): \(c.compared) layers against onnxruntime, worst \(c.worst.name) at \(c.worst.error)")
        #expect(c.compared >= model.graph.outputs.count, sourceLocation: sourceLocation)
        #expect(c.mismatches.isEmpty, "\(c.mismatches)", sourceLocation: sourceLocation)
        return model
    }

    @Test("Caffe2: IR 3 with every weight also a graph input, a Reshape of a constant bias")
    func caffe2() throws {
        var b = ONNXBuilder(opset: 9, input: "data_0", shape: [1, 3, 9, 9])
        b.model.irVersion = 3
        b.model.graph.name = "caffe2"
        // The weights come first in the input list, as Caffe2's exporter writes them.
        let data = b.model.graph.input
        b.model.graph.input = []
        for (name, dims) in [("conv1_w", [4, 3, 3, 3]), ("conv1_b_flat", [4]), ("bias_shape", [4]),
                             ("fc_w", [5, 4 * 7 * 7]), ("fc_b", [5]), ("OC2_DUMMY_1", [2])] {
            b.model.graph.input.append(ONNXBuilder.valueInfo(name, shape: dims,
                                                             elemType: name.hasSuffix("shape") || name.hasPrefix("OC2") ? .int64 : .float))
        }
        b.model.graph.input += data
        b.weight("conv1_w", [4, 3, 3, 3], Self.weights(108, seed: 1))
        b.weight("conv1_b_flat", [4], [0.1, -0.2, 0.3, 0.05])
        b.ints("bias_shape", [4], [1, 4, 1, 1])
        b.weight("fc_w", [5, 196], Self.weights(980, seed: 2))
        b.weight("fc_b", [5], [0, 0.1, 0.2, 0.3, 0.4])
        b.ints("OC2_DUMMY_1", [2], [1, 196])
        b.node("Conv", ["data_0", "conv1_w"], ["conv1"])
        b.node("Reshape", ["conv1_b_flat", "bias_shape"], ["conv1_b"])
        b.node("Add", ["conv1", "conv1_b"], ["conv1_biased"])
        b.node("Relu", ["conv1_biased"], ["conv1_relu"])
        b.node("Reshape", ["conv1_relu", "OC2_DUMMY_1"], ["flat"])
        b.node("Gemm", ["flat", "fc_w", "fc_b"], ["fc"], [attr("transB", int: 1)])
        b.node("Softmax", ["fc"], ["prob"])
        b.output("prob")
        let m = try Self.check(b)
        #expect(m.graph.values[m.graph.input].name == "data_0")
        #expect(m.graph.foldedNodes == [FoldedNode(name: "conv1_b", op: "Reshape")])
        #expect(m.shape("flat") == Shape([1, 196]))
    }

    @Test("torch: Shape → Gather → Unsqueeze → Concat → Reshape folds to one Reshape", arguments: [11, 13])
    func torchFlatten(opset: Int) throws {
        var b = ONNXBuilder(opset: opset, shape: [1, 3, 10, 10])
        b.model.graph.name = "torch-flatten-\(opset)"
        b.weight("w", [6, 3, 3, 3], Self.weights(162, seed: 3))
        b.weight("fc.weight", [4, 6 * 4 * 4], Self.weights(384, seed: 4))
        b.weight("fc.bias", [4], [0.1, 0.2, 0.3, 0.4])
        b.node("Conv", ["x", "w"], ["conv"], [attr("pads", ints: [1, 1, 1, 1])])
        b.node("Relu", ["conv"], ["relu"])
        b.node("MaxPool", ["relu"], ["pool"], [attr("kernel_shape", ints: [2, 2]), attr("strides", ints: [2, 2]),
                                               attr("ceil_mode", int: 0)])
        b.node("AveragePool", ["pool"], ["avg"], [attr("kernel_shape", ints: [2, 2]), attr("strides", ints: [1, 1])])
        b.node("Shape", ["avg"], ["shape"])
        b.node("Constant", [], ["zero"], [attr("value", tensor: int64Tensor("", [], [0]))])
        b.node("Gather", ["shape", "zero"], ["batch"], [attr("axis", int: 0)])
        if opset >= 13 {
            b.ints("axes0", [1], [0])
            b.node("Unsqueeze", ["batch", "axes0"], ["batch1"])
        } else {
            b.node("Unsqueeze", ["batch"], ["batch1"], [attr("axes", ints: [0])])
        }
        b.node("Constant", [], ["minus1"], [attr("value", tensor: int64Tensor("", [1], [-1]))])
        b.node("Concat", ["batch1", "minus1"], ["target"], [attr("axis", int: 0)])
        b.node("Reshape", ["avg", "target"], ["flat"])
        b.node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"], [attr("transB", int: 1)])
        b.output("logits")
        let m = try Self.check(b)
        #expect(m.graph.foldedNodes.map(\.op) == ["Shape", "Constant", "Gather", "Unsqueeze", "Constant", "Concat"])
        #expect(m.graph.foldedNodes.map(\.name) == ["shape", "zero", "batch", "batch1", "minus1", "target"])
        #expect(!m.graph.nodes.contains { ["shape", "batch", "target"].contains($0.name) })
        guard case .reshape(let s) = try #require(m.node("flat")).op else { Issue.record("flat is not a Reshape"); return }
        #expect(s == Shape([1, 96]))
    }

    @Test("tf2onnx: an NHWC input transposed at the edge, weights transposed from HWIO, a Transpose back to NHWC")
    func tf2onnx() throws {
        var b = ONNXBuilder(opset: 13, input: "input_1", shape: [1, 7, 9, 3])
        b.model.graph.name = "tf2onnx"
        // Keras keeps HWIO kernels; the graph transposes the constant to OIHW.
        b.weight("kernel_hwio", [3, 3, 3, 5], Self.weights(135, seed: 5))
        b.weight("bias", [5], [0.1, -0.1, 0.2, -0.2, 0])
        b.weight("dense", [7 * 9 * 5, 3], Self.weights(945, seed: 6))
        b.ints("flat_shape", [2], [1, -1])
        b.node("Transpose", ["input_1"], ["input_nchw"], [attr("perm", ints: [0, 3, 1, 2])])
        b.node("Transpose", ["kernel_hwio"], ["kernel"], [attr("perm", ints: [3, 2, 0, 1])])
        b.node("Conv", ["input_nchw", "kernel", "bias"], ["conv"], [attr("pads", ints: [1, 1, 1, 1])])
        b.node("Relu", ["conv"], ["relu"])
        b.node("Transpose", ["relu"], ["relu_nhwc"], [attr("perm", ints: [0, 2, 3, 1])])
        b.node("Reshape", ["relu_nhwc", "flat_shape"], ["flat"])
        b.node("MatMul", ["flat", "dense"], ["logits"])
        b.node("Softmax", ["logits"], ["probs"])
        b.output("probs")
        let m = try Self.check(b) { nchw in
            // onnxruntime is fed the same image in the model's own NHWC layout.
            let t = HostTensor(dims: [1, 3, 7, 9], floats: nchw)
            return ([1, 7, 9, 3], try! ConstantFolding.transpose(t, perm: [0, 2, 3, 1]).floats)
        }
        #expect(m.graph.values[m.graph.input].shape == Shape([1, 3, 7, 9]))
        #expect(m.preprocessing.inputSize == [7, 9])
        #expect(m.graph.foldedNodes.map(\.name) == ["kernel"])
        guard case .transpose(let perm) = try #require(m.node("relu_nhwc")).op else { Issue.record("relu_nhwc"); return }
        #expect(perm == [0, 2, 3, 1])
    }

    @Test("ShuffleNet: grouped convolution, Reshape → Transpose → Reshape channel shuffle, Split and Concat")
    func shuffleBlock() throws {
        var b = ONNXBuilder(opset: 13, shape: [1, 8, 6, 6])
        b.model.graph.name = "shuffle"
        b.weight("gconv", [8, 4, 1, 1], Self.weights(32, seed: 8))
        b.weight("dw", [8, 1, 3, 3], Self.weights(72, seed: 9))
        b.ints("groups", [5], [1, 2, 4, 6, 6])
        b.ints("back", [4], [1, 8, 6, 6])
        b.ints("halves", [2], [4, 4])
        b.node("Conv", ["x", "gconv"], ["gconv_out"], [attr("group", int: 2)])
        b.node("Relu", ["gconv_out"], ["gconv_relu"])
        b.node("Reshape", ["gconv_relu", "groups"], ["grouped"])
        b.node("Transpose", ["grouped"], ["shuffled"], [attr("perm", ints: [0, 2, 1, 3, 4])])
        b.node("Reshape", ["shuffled", "back"], ["shuffle_out"])
        b.node("Conv", ["shuffle_out", "dw"], ["dw_out"], [attr("group", int: 8), attr("pads", ints: [1, 1, 1, 1])])
        b.node("Split", ["dw_out", "halves"], ["left", "right"], [attr("axis", int: 1)])
        b.node("Relu", ["right"], ["right_relu"])
        b.node("Concat", ["left", "right_relu", "x"], ["block_out"], [attr("axis", int: 1)])
        b.output("block_out")
        let m = try Self.check(b)
        #expect(m.shape("grouped") == Shape([1, 2, 4, 6, 6]))
        #expect(m.shape("left") == Shape([1, 4, 6, 6]) && m.shape("right") == Shape([1, 4, 6, 6]))
        // The shuffle keeps every unit's place on the grid.
        let fields = ReceptiveField.all(in: m.graph)
        let out = try #require(m.graph.value(named: "shuffle_out"))
        #expect(fields[out]?.jumpY == 1 && fields[out]?.sizeY == 1)
    }

    @Test("Slice (steps, negative starts, opset 9 attributes), Squeeze, Unsqueeze, Tile and Flatten on computed tensors",
          arguments: [9, 13])
    func layoutOps(opset: Int) throws {
        var b = ONNXBuilder(opset: opset, shape: [1, 4, 7, 9])
        b.model.graph.name = "layout-\(opset)"
        b.weight("w", [3, 4, 1, 1], Self.weights(12, seed: 10))
        b.node("Conv", ["x", "w"], ["conv"])
        if opset >= 10 {
            b.ints("starts", [2], [1, -1]); b.ints("ends", [2], [7, -10]); b.ints("axes", [2], [2, 3]); b.ints("steps", [2], [2, -2])
            b.node("Slice", ["conv", "starts", "ends", "axes", "steps"], ["sliced"])
        } else {
            b.node("Slice", ["conv"], ["sliced"], [attr("starts", ints: [1, 2]), attr("ends", ints: [7, 100]), attr("axes", ints: [2, 3])])
        }
        if opset >= 13 {
            b.ints("ax0", [1], [0]); b.ints("ax1", [1], [1]); b.ints("reps", [4], [1, 2, 1, 3])
            b.node("Squeeze", ["sliced", "ax0"], ["squeezed"])
            b.node("Unsqueeze", ["squeezed", "ax0"], ["unsqueezed"])
            b.node("Tile", ["unsqueezed", "reps"], ["tiled"])
        } else {
            b.ints("reps", [4], [1, 2, 1, 3])
            b.node("Squeeze", ["sliced"], ["squeezed"], [attr("axes", ints: [0])])
            b.node("Unsqueeze", ["squeezed"], ["unsqueezed"], [attr("axes", ints: [0])])
            b.node("Tile", ["unsqueezed", "reps"], ["tiled"])
        }
        b.node("Relu", ["tiled"], ["relu"])
        b.node("Flatten", ["relu"], ["flat"], [attr("axis", int: 2)])
        b.output("flat")
        let m = try Self.check(b)
        #expect(m.shape("squeezed")?.rank == 3)
        #expect(m.shape("tiled")?[1] == 6)
    }
}
