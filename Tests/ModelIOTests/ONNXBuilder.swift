import Foundation
import Engine
import ModelIO
import Testing

/// Builds small ONNX models in memory for the loader tests.
struct ONNXBuilder {
    var model = Onnx_ModelProto()

    /// A model with one FLOAT input `x` of `shape` (nil entries are symbolic) at `opset`.
    init(opset: Int = 13, input: String = "x", shape: [Int?] = [1, 3, 8, 8]) {
        model.irVersion = 7
        model.producerName = "unit-test"
        model.producerVersion = "0.1"
        var set = Onnx_OperatorSetIdProto()
        set.domain = ""
        set.version = Int64(opset)
        model.opsetImport = [set]
        model.graph = Onnx_GraphProto()
        model.graph.name = "test"
        model.graph.input = [Self.valueInfo(input, shape: shape)]
    }

    static func valueInfo(_ name: String, shape: [Int?], elemType: Onnx_TensorProto.DataType = .float) -> Onnx_ValueInfoProto {
        var info = Onnx_ValueInfoProto()
        info.name = name
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = Int32(elemType.rawValue)
        var s = Onnx_TensorShapeProto()
        s.dim = shape.enumerated().map { i, d in
            var dim = Onnx_TensorShapeProto.Dimension()
            if let d { dim.dimValue = Int64(d) } else { dim.dimParam = i == 0 ? "batch" : "dim\(i)" }
            return dim
        }
        tensor.shape = s
        info.type.tensorType = tensor
        return info
    }

    /// A FLOAT initializer, in raw_data (default) or float_data.
    mutating func weight(_ name: String, _ dims: [Int], _ values: [Float], raw: Bool = true) {
        model.graph.initializer.append(floatTensor(name, dims, values, raw: raw))
    }

    /// An INT64 initializer, in raw_data or int64_data (default).
    mutating func ints(_ name: String, _ dims: [Int], _ values: [Int64], raw: Bool = false) {
        model.graph.initializer.append(int64Tensor(name, dims, values, raw: raw))
    }

    @discardableResult
    mutating func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String = "",
                       _ attributes: [Onnx_AttributeProto] = []) -> Self {
        var n = Onnx_NodeProto()
        n.opType = op
        n.input = inputs
        n.output = outputs
        n.name = name
        n.attribute = attributes
        model.graph.node.append(n)
        return self
    }

    mutating func output(_ names: String...) {
        for name in names {
            var info = Onnx_ValueInfoProto()
            info.name = name
            model.graph.output.append(info)
        }
    }

    func data() throws -> Data { try model.serializedData() }

    /// Loads the model from memory (no sidecar, no labels).
    func load() throws -> Model { try ModelLoader.load(data: data(), path: "/nonexistent/test.onnx") }
}

func floatTensor(_ name: String, _ dims: [Int], _ values: [Float], raw: Bool = true) -> Onnx_TensorProto {
    var t = Onnx_TensorProto()
    t.name = name
    t.dims = dims.map { Int64($0) }
    t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
    if raw {
        var d = Data()
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
        t.rawData = d
    } else {
        t.floatData = values
    }
    return t
}

func int64Tensor(_ name: String, _ dims: [Int], _ values: [Int64], raw: Bool = false) -> Onnx_TensorProto {
    var t = Onnx_TensorProto()
    t.name = name
    t.dims = dims.map { Int64($0) }
    t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
    if raw {
        var d = Data()
        for v in values { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        t.rawData = d
    } else {
        t.int64Data = values
    }
    return t
}

func attr(_ name: String, int value: Int) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto(); a.name = name; a.type = .int; a.i = Int64(value); return a
}
func attr(_ name: String, ints values: [Int]) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto(); a.name = name; a.type = .ints; a.ints = values.map { Int64($0) }; return a
}
func attr(_ name: String, float value: Float) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto(); a.name = name; a.type = .float; a.f = value; return a
}
func attr(_ name: String, floats values: [Float]) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto(); a.name = name; a.type = .floats; a.floats = values; return a
}
func attr(_ name: String, string value: String) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto(); a.name = name; a.type = .string; a.s = Data(value.utf8); return a
}
func attr(_ name: String, tensor value: Onnx_TensorProto) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto(); a.name = name; a.type = .tensor; a.t = value; return a
}

/// `count` deterministic, varied floats.
func ramp(_ count: Int, scale: Float = 0.1, offset: Float = 0) -> [Float] {
    (0..<count).map { Float(($0 * 7) % 13 - 6) * scale + offset }
}

extension Model {
    /// The node producing the value `name`.
    func node(_ name: String) -> Node? {
        graph.value(named: name).flatMap { graph.node(producing: $0) }
    }
    func shape(_ name: String) -> Shape? {
        graph.value(named: name).map { graph.values[$0].shape }
    }
}

/// Expects `body` to throw a `ModelError` and returns its description ("" when it did not throw one).
@discardableResult
func modelError(_ body: () throws -> Any, sourceLocation: SourceLocation = #_sourceLocation) -> String {
    do {
        _ = try body()
        Issue.record("expected a ModelError, but it succeeded", sourceLocation: sourceLocation)
    } catch let error as ModelError {
        return error.description
    } catch {
        Issue.record("expected a ModelError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
    return ""
}

/// A fresh empty folder, removed by the caller with `removeItem`.
func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("modelio-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
