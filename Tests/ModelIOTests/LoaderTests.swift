import Foundation
import Engine
import ModelIO
import Testing
import TestSupport

/// A small valid model: Conv, Relu, GlobalAveragePool, Flatten, Gemm, Softmax.
func smallClassifier(opset: Int = 13, classes: Int = 4) -> ONNXBuilder {
    var b = ONNXBuilder(opset: opset)
    b.weight("w", [6, 3, 3, 3], ramp(162))
    b.weight("wb", [6], ramp(6))
    b.weight("fc", [classes, 6], ramp(6 * classes))
    b.weight("fcb", [classes], ramp(classes))
    b.node("Conv", ["x", "w", "wb"], ["conv1"], name: "Conv_0", [attr("pads", ints: [1, 1, 1, 1])])
    b.node("Relu", ["conv1"], ["relu1"], name: "Relu_1")
    b.node("GlobalAveragePool", ["relu1"], ["pool"], name: "Pool_2")
    b.node("Flatten", ["pool"], ["flat"], name: "Flatten_3")
    b.node("Gemm", ["flat", "fc", "fcb"], ["logits"], name: "Gemm_4", [attr("transB", int: 1)])
    b.node("Softmax", ["logits"], ["prob"], name: "Softmax_5", [attr("axis", int: 1)])
    b.output("prob")
    return b
}

@Suite struct LoaderTests {
    @Test func loadsFromAFileAndReportsTheProducer() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("net.onnx").path
        try smallClassifier().data().write(to: URL(fileURLWithPath: path))
        let m = try ModelLoader.load(path: path)
        #expect(m.url.path == path)
        #expect(m.producer == "unit-test 0.1 / opset 13")
        #expect(m.graph.nodes.map(\.name) == ["conv1", "relu1", "pool", "flat", "logits", "prob"])
        #expect(m.graph.outputs.map { m.graph.values[$0].name } == ["prob"])
        #expect(m.shape("prob") == Shape([1, 4]))
        #expect(m.labels == nil)
        #expect(m.preprocessing == Preprocessing.defaults(inputSize: [8, 8]))
    }

    @Test func floatDataAndRawDataGiveTheSameWeights() throws {
        func weights(raw: Bool) throws -> [Float] {
            var b = ONNXBuilder()
            b.weight("w", [2, 3, 1, 1], [1, -2, 3.5, 0, 1e-8, -7], raw: raw)
            b.node("Conv", ["x", "w"], ["y"])
            b.output("y")
            guard case .conv(let c) = try #require(try b.load().node("y")).op else { return [] }
            return c.weight
        }
        #expect(try weights(raw: true) == [1, -2, 3.5, 0, 1e-8, -7])
        #expect(try weights(raw: false) == [1, -2, 3.5, 0, 1e-8, -7])
    }

    @Test func symbolicBatchBecomesOne() throws {
        var b = ONNXBuilder(shape: [nil, 3, 8, 8])
        b.node("Relu", ["x"], ["y"])
        b.output("y")
        #expect(try b.load().shape("x") == Shape([1, 3, 8, 8]))
    }

    @Test func inputThatIsAnInitializerIsSkipped() throws {
        var b = ONNXBuilder()
        b.model.graph.input.insert(ONNXBuilder.valueInfo("w", shape: [2, 3, 1, 1]), at: 0)
        b.weight("w", [2, 3, 1, 1], ramp(6))
        b.node("Conv", ["x", "w"], ["y"])
        b.output("y")
        let m = try b.load()
        #expect(m.graph.values[m.graph.input].name == "x")
    }

    @Test func inputMustBeAFloatImage() {
        var rank3 = ONNXBuilder(shape: [3, 8, 8])
        rank3.node("Relu", ["x"], ["y"]); rank3.output("y")
        #expect(modelError { try rank3.load() } == "/nonexistent/test.onnx: the graph input 'x' has rank 3; DeepScope needs an NCHW image input of rank 4.")

        var ints = ONNXBuilder()
        ints.model.graph.input = [ONNXBuilder.valueInfo("x", shape: [1, 3, 8, 8], elemType: .int64)]
        ints.node("Relu", ["x"], ["y"]); ints.output("y")
        #expect(modelError { try ints.load() }.contains("element type INT64"))

        var symbolic = ONNXBuilder(shape: [1, 3, nil, nil])
        symbolic.node("Relu", ["x"], ["y"]); symbolic.output("y")
        #expect(modelError { try symbolic.load() }.contains("input_size"))

        var channels = ONNXBuilder(shape: [1, nil, 8, 8])
        channels.node("Relu", ["x"], ["y"]); channels.output("y")
        #expect(modelError { try channels.load() }.contains("unknown channel count"))

        var none = ONNXBuilder()
        none.model.graph.input = []
        none.node("Relu", ["x"], ["y"]); none.output("y")
        #expect(modelError { try none.load() }.contains("no input"))

        var huge = ONNXBuilder(shape: [1, 3, 1 << 20, 1 << 20])
        huge.node("Relu", ["x"], ["y"]); huge.output("y")
        #expect(modelError { try huge.load() }.contains("exceeds"))
    }

    @Test func unsupportedOpNamesTheNodeAndTheOp() {
        var b = ONNXBuilder()
        b.node("Relu", ["x"], ["r"])
        b.node("GridSample", ["r"], ["blocks.0/act"], name: "GridSample_7")
        b.output("blocks.0/act")
        #expect(modelError { try b.load() } == "/nonexistent/test.onnx: Node 'blocks.0/act' uses op 'GridSample' (opset 13), which DeepScope does not support.")

        var custom = ONNXBuilder()
        custom.node("Relu", ["x"], ["y"])
        custom.model.graph.node[0].domain = "com.microsoft"
        custom.output("y")
        #expect(modelError { try custom.load() }.contains("uses op 'com.microsoft.Relu'"))
    }

    @Test func unknownInputsAndOutputs() {
        var b = ONNXBuilder()
        b.node("Relu", ["nothing"], ["y"])
        b.output("y")
        #expect(modelError { try b.load() }.contains("Node 'y' (Relu): it reads 'nothing', which is not the graph input"))

        var out = ONNXBuilder()
        out.node("Relu", ["x"], ["y"])
        out.output("z")
        #expect(modelError { try out.load() }.contains("the graph output 'z' is not computed by any node"))

        var inputAsOutput = ONNXBuilder()
        inputAsOutput.node("Relu", ["x"], ["y"])
        inputAsOutput.output("x")
        #expect(modelError { try inputAsOutput.load() }.contains("the graph output 'x' is not computed by any node"))

        var noOutputs = ONNXBuilder()
        noOutputs.node("Relu", ["x"], ["y"])
        #expect(modelError { try noOutputs.load() }.contains("declares no outputs"))

        var duplicate = ONNXBuilder()
        duplicate.node("Relu", ["x"], ["y"])
        duplicate.node("Sigmoid", ["x"], ["y"])
        duplicate.output("y")
        #expect(modelError { try duplicate.load() }.contains("Node 'y' (Sigmoid): its output 'y' has the name of another value"))

        var unnamed = ONNXBuilder()
        unnamed.node("Relu", ["x"], [], name: "r")
        unnamed.output("y")
        #expect(modelError { try unnamed.load() }.contains("Node 'r' (Relu): the node has no output name"))
    }

    @Test func badInitializers() {
        func withWeight(_ t: Onnx_TensorProto) -> ONNXBuilder {
            var b = ONNXBuilder()
            b.model.graph.initializer.append(t)
            b.node("Conv", ["x", t.name], ["y"])
            b.output("y")
            return b
        }
        var double = floatTensor("w", [2, 3, 1, 1], ramp(6))
        double.dataType = Int32(Onnx_TensorProto.DataType.double.rawValue)
        #expect(modelError { try withWeight(double).load() }.contains("initializer 'w' has data type DOUBLE; DeepScope reads only FLOAT and INT64 tensors"))

        var short = floatTensor("w", [2, 3, 1, 1], ramp(6))
        short.rawData = short.rawData.prefix(20)
        #expect(modelError { try withWeight(short).load() }.contains("has 20 bytes of raw data, but shape [2, 3, 1, 1] needs 24"))

        let few = floatTensor("w", [2, 3, 1, 1], ramp(5), raw: false)
        #expect(modelError { try withWeight(few).load() }.contains("has 5 values"))

        var negative = floatTensor("w", [2, 3, 1, 1], ramp(6))
        negative.dims = [2, -3, 1, 1]
        #expect(modelError { try withWeight(negative).load() }.contains("negative or exceed"))

        // Claims 2^62 elements: refused before anything is allocated.
        var huge = floatTensor("w", [2, 3, 1, 1], ramp(6))
        huge.dims = [1 << 31, 1 << 31, 1, 1]
        #expect(modelError { try withWeight(huge).load() }.contains("negative or exceed"))

        var external = floatTensor("w", [2, 3, 1, 1], ramp(6))
        external.dataLocation = .external
        #expect(modelError { try withWeight(external).load() }.contains("external file"))
    }

    @Test func missingFile() {
        #expect(modelError { try ModelLoader.load(path: "/nonexistent/model.onnx") } == "/nonexistent/model.onnx: no such file.")
    }

    @Test func oversizedFileIsRefusedBeforeReading() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("huge.onnx").path
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(ModelLimits.maxFileBytes) + 1)   // sparse: no disk used
        try handle.close()
        #expect(modelError { try ModelLoader.load(path: path) }.hasPrefix(path + ": the file is 2147483649 bytes"))
    }

    @Test func directory() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(modelError { try ModelLoader.load(path: dir.path) }.hasPrefix(dir.path + ": cannot be read"))
    }

    @Test func truncatedFile() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("cut.onnx").path
        let full = try smallClassifier().data()
        try full.prefix(full.count / 2).write(to: URL(fileURLWithPath: path))
        let e = modelError { try ModelLoader.load(path: path) }
        #expect(e.hasPrefix(path + ": "))
        #expect(e.contains("truncated") || e.contains("no graph") || e.contains("not a valid ONNX"))
    }

    @Test func randomBytesAndEmptyFile() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("noise.onnx").path
        var rng = SplitMix64(seed: 7)
        try Data((0..<4096).map { _ in UInt8(truncatingIfNeeded: rng.next()) }).write(to: URL(fileURLWithPath: path))
        #expect(modelError { try ModelLoader.load(path: path) }.hasPrefix(path + ": "))

        let text = dir.appendingPathComponent("text.onnx").path
        try Data("this is not a model\n".utf8).write(to: URL(fileURLWithPath: text))
        #expect(modelError { try ModelLoader.load(path: text) }.hasPrefix(text + ": "))

        let empty = dir.appendingPathComponent("empty.onnx").path
        try Data().write(to: URL(fileURLWithPath: empty))
        #expect(modelError { try ModelLoader.load(path: empty) } == "\(empty): not a valid ONNX model (the file is empty).")
    }

    @Test func modelWithoutAGraph() throws {
        var m = Onnx_ModelProto()
        m.irVersion = 8
        m.producerName = "nothing"
        #expect(modelError { try ModelLoader.load(data: m.serializedData(), path: "g.onnx") } == "g.onnx: the ONNX model contains no graph.")
    }
}
