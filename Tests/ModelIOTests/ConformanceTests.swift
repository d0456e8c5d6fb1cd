import Foundation
import Engine
import ModelIO
import Testing

/// The conformance cases that the `onnx` wheel ships (`onnx/backend/test/data/pytorch-operator` and
/// `pytorch-converted`: model.onnx, test_data_set_0/input_0.pb and output_*.pb, as TensorProto),
/// found in the venv that Scripts/setup makes.
enum ConformanceCases {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `<venv>/lib/python3.X/site-packages/onnx/backend/test/data`, or nil without the venv.
    static var dataFolder: URL? {
        let lib = root.appendingPathComponent(".venv/lib")
        guard let pythons = try? FileManager.default.contentsOfDirectory(atPath: lib.path) else { return nil }
        for p in pythons.sorted() where p.hasPrefix("python3") {
            let d = lib.appendingPathComponent(p).appendingPathComponent("site-packages/onnx/backend/test/data")
            if FileManager.default.fileExists(atPath: d.path) { return d }
        }
        return nil
    }

    /// Every case folder of the two suites, sorted by name.
    static func all() -> [URL] {
        guard let data = dataFolder else { return [] }
        return ["pytorch-operator", "pytorch-converted"].flatMap { suite -> [URL] in
            let d = data.appendingPathComponent(suite)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: d.path)) ?? []
            return names.sorted().map { d.appendingPathComponent($0) }
        }
    }

    /// A FLOAT TensorProto's dimensions and values (raw_data little-endian, or float_data).
    static func floatTensor(_ url: URL) throws -> (dims: [Int], values: [Float])? {
        let t = try Onnx_TensorProto(serializedBytes: try Data(contentsOf: url))
        guard t.dataType == Int32(Onnx_TensorProto.DataType.float.rawValue) else { return nil }
        let dims = t.dims.map { Int($0) }
        if !t.rawData.isEmpty {
            let values = t.rawData.withUnsafeBytes { raw in
                (0..<(raw.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            }
            return (dims, values)
        }
        return (dims, t.floatData)
    }
}

/// What running one case gave.
enum ConformanceOutcome: Equatable {
    case passed
    /// Not a case with a single 4-D float input.
    case notApplicable
    /// The loader refused the model, with its sentence.
    case refused(String)
    /// A computed output differs: which, and by how much.
    case wrong(String)
}

/// Runs a case: the first data set's single input through the loader and the engine, every
/// expected output compared within |ours − expected| ≤ 1e-4 · max(1, max |expected|).
func runConformanceCase(_ folder: URL) throws -> ConformanceOutcome {
    let set = folder.appendingPathComponent("test_data_set_0")
    let files = (try? FileManager.default.contentsOfDirectory(atPath: set.path)) ?? []
    let inputs = files.filter { $0.hasPrefix("input_") }
    guard inputs == ["input_0.pb"], let input = try ConformanceCases.floatTensor(set.appendingPathComponent("input_0.pb")),
          input.dims.count == 4 else { return .notApplicable }
    let model: Model
    do { model = try ModelLoader.load(path: folder.appendingPathComponent("model.onnx").path) } catch let e as ModelError {
        return .refused("\(e)")
    }
    let graph = model.graph
    guard graph.values[graph.input].shape.dims == input.dims else {
        return .wrong("the input is \(graph.values[graph.input].shape), the data \(input.dims)")
    }
    let network = Network(graph: graph, threads: 2)
    _ = network.input.update(fromContentsOf: input.values)
    network.forward()
    let outputs = files.filter { $0.hasPrefix("output_") }.sorted()
    guard outputs.count == graph.outputs.count else {
        return .wrong("\(outputs.count) expected outputs, the graph has \(graph.outputs.count)")
    }
    for (k, name) in outputs.enumerated() {
        guard let expected = try ConformanceCases.floatTensor(set.appendingPathComponent(name)) else { return .notApplicable }
        let v = graph.outputs[k]
        network.materialize(v)
        let ours = Array(network.buffer(v))
        guard ours.count == expected.values.count else {
            return .wrong("output \(k) has \(ours.count) values, expected \(expected.values.count)")
        }
        let scale = max(1, expected.values.map(abs).max() ?? 0)
        var worst: Float = 0
        for (a, b) in zip(ours, expected.values) where a != b { worst = max(worst, abs(a - b)) }
        if !(worst <= 1e-4 * scale) { return .wrong("output \(k) differs by \(worst) (scale \(scale))") }
    }
    return .passed
}

@Suite("ONNX conformance cases (pytorch-operator, pytorch-converted)")
struct ConformanceTests {
    /// The cases whose ops this engine has; each must pass.
    static let mustPass: Set<String> = [
        "test_operator_reduced_mean", "test_operator_reduced_mean_keepdim", "test_operator_reduced_sum",
        "test_operator_reduced_sum_keepdim", "test_operator_selu", "test_operator_symbolic_override",
        "test_PReLU_2d", "test_PReLU_2d_multiparam", "test_log_softmax_dim3", "test_ReflectionPad2d",
        "test_ReplicationPad2d", "test_MaxPool2d_stride_padding_dilation", "test_operator_convtranspose", "test_ConvTranspose2d",
        "test_ConvTranspose2d_no_bias", "test_ReLU", "test_Sigmoid", "test_Tanh",
        "test_Conv2d", "test_Conv2d_dilated", "test_Conv2d_groups", "test_MaxPool2d", "test_AvgPool2d",
        "test_BatchNorm2d_eval", "test_ZeroPad2d", "test_ConstantPad2d", "test_softmax_functional_dim3",
    ]

    /// Every case with a single 4-D float input: counts of passed, refused (each with the loader's
    /// sentence, which names the node, the op and the opset) and wrong. Wrong must be 0.
    @Test(.enabled(if: ConformanceCases.dataFolder != nil, "the venv with the onnx wheel is absent (run Scripts/setup)"))
    func everySingleInputCase() throws {
        var passed: [String] = [], refused: [(String, String)] = [], wrong: [(String, String)] = []
        for folder in ConformanceCases.all() {
            let name = folder.lastPathComponent
            switch try runConformanceCase(folder) {
            case .passed: passed.append(name)
            case .notApplicable: continue
            case .refused(let why): refused.append((name, why))
            case .wrong(let why): wrong.append((name, why))
            }
        }
        print("ONNX conformance, single 4-D float input: \(passed.count) passed, \(refused.count) refused, \(wrong.count) wrong "
              + "(tolerance |ours − expected| ≤ 1e-4 · max(1, max |expected|))")
        for (name, why) in refused { print("  refused \(name): \(why)") }
        for (name, why) in wrong { print("  WRONG \(name): \(why)") }
        #expect(wrong.isEmpty, "\(wrong.map { "\($0.0): \($0.1)" })")
        for name in Self.mustPass.sorted() {
            #expect(passed.contains(name), "\(name) does not pass")
        }
        for (name, why) in refused {
            #expect(why.contains("opset") && why.hasSuffix(".") && why.contains("Node '"), "\(name): \(why)")
        }
    }
}
