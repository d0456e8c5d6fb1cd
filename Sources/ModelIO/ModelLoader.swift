import Foundation
import Engine
import SwiftProtobuf

/// A network ready to plan and run, with what is needed to feed it and to name its classes.
public struct Model: Sendable {
    /// Where the model was loaded from.
    public var url: URL
    /// The network, optimized (BatchNormalizations folded into their convolutions), outputs set to
    /// the ONNX graph outputs.
    public var graph: Graph
    /// How to turn an image into the input tensor (the sidecar, with defaults filled in).
    public var preprocessing: Preprocessing
    /// One name per class, when a labels file was found.
    public var labels: [String]?
    /// The program that wrote the model and its operator set, e.g. "deepscope-convert 1.0 / opset 13".
    public var producer: String

    public init(url: URL, graph: Graph, preprocessing: Preprocessing, labels: [String]?, producer: String) {
        self.url = url
        self.graph = graph
        self.preprocessing = preprocessing
        self.labels = labels
        self.producer = producer
    }
}

/// Loads ONNX models (with their sidecar and labels) into engine graphs.
public enum ModelLoader {
    /// The most bytes a sidecar may have.
    static let maxSidecarBytes = 1 << 20

    /// Loads the ONNX model at `path`, its sidecar `<path without .onnx>.json` and its labels.
    /// Throws `ModelError`, whose description names the file (and node) at fault.
    /// `foldConstants: false` imports without evaluating constant subgraphs (what a model loads
    /// like without the folder; `bench` compares the two load times).
    public static func load(path: String, foldConstants: Bool = true) throws -> Model {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelError.fileNotFound(path: path)
        }
        guard !isDirectory.boolValue else { throw ModelError.unreadable(path: path, reason: "it is a directory") }
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber,
           size.int64Value > Int64(ModelLimits.maxFileBytes) {
            throw ModelError.tooLarge(path: path, bytes: Int(clamping: size.int64Value), limit: ModelLimits.maxFileBytes)
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw ModelError.unreadable(path: path, reason: error.localizedDescription)
        }
        return try load(data: data, path: path, foldConstants: foldConstants)
    }

    /// Loads a model from ONNX bytes already in memory. `path` names it in errors and locates the
    /// sidecar and labels (which are optional).
    public static func load(data: Data, path: String, foldConstants: Bool = true) throws -> Model {
        guard data.count <= ModelLimits.maxFileBytes else {
            throw ModelError.tooLarge(path: path, bytes: data.count, limit: ModelLimits.maxFileBytes)
        }
        guard !data.isEmpty else { throw ModelError.notONNX(path: path, reason: "the file is empty") }
        let proto: Onnx_ModelProto
        do { proto = try Onnx_ModelProto(serializedBytes: data) } catch {
            throw ModelError.notONNX(path: path, reason: describe(error))
        }
        guard proto.hasGraph else { throw ModelError.noGraph(path: path) }

        var importer = ONNXImporter(path: path, model: proto)
        importer.foldConstants = foldConstants
        let (inputName, declared) = try importer.declaredInput()
        let modelSize: [Int]? = declared[2].flatMap { h in declared[3].map { [h, $0] } }

        let sidecarPath = sibling(of: path, extension: "json")
        var sidecar: Preprocessing.Sidecar? = nil
        if FileManager.default.fileExists(atPath: sidecarPath) {
            let json = try readSidecar(sidecarPath)
            sidecar = try Preprocessing.parseSidecar(json: json, path: sidecarPath, defaultInputSize: modelSize ?? [])
        }
        let givenSize = sidecar?.givesInputSize == true ? sidecar?.preprocessing.inputSize.dimensions : nil
        if let givenSize, let modelSize, givenSize != modelSize {
            throw ModelError.invalidSidecar(path: sidecarPath, key: "input_size",
                                            reason: "is \(givenSize), but the model's input '\(inputName)' is fixed at \(modelSize)")
        }
        try importer.addInput(name: inputName, declared: declared, size: givenSize)
        try importer.importNodes()
        try importer.setOutputs()

        var graph = importer.graph
        graph.foldBatchNorms()

        let dims = importer.inputDims
        var preprocessing = sidecar?.preprocessing ?? Preprocessing.defaults(inputSize: [dims[2], dims[3]])
        preprocessing.inputSize = [dims[2], dims[3]]

        var labels: [String]? = nil
        if let name = preprocessing.labels {
            let labelsPath = name.hasPrefix("/") ? name
                : ((sidecarPath as NSString).deletingLastPathComponent as NSString).appendingPathComponent(name)
            labels = try Labels.read(path: labelsPath)
            try checkLabels(labels!, labelsPath: labelsPath, graph: graph)
        } else if sidecar?.disablesLabels != true {
            let labelsPath = sibling(of: path, extension: "labels.txt")
            if FileManager.default.fileExists(atPath: labelsPath) {
                labels = try Labels.read(path: labelsPath)
                try checkLabels(labels!, labelsPath: labelsPath, graph: graph)
                preprocessing.labels = (labelsPath as NSString).lastPathComponent
            }
        }
        return Model(url: URL(fileURLWithPath: path), graph: graph, preprocessing: preprocessing,
                     labels: labels, producer: importer.producer)
    }

    /// `path` with its extension (normally `.onnx`) replaced by `ext`.
    static func sibling(of path: String, extension ext: String) -> String {
        (path as NSString).deletingPathExtension + "." + ext
    }

    private static func readSidecar(_ path: String) throws -> Data {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ModelError.invalidSidecar(path: path, key: nil, reason: "cannot be read (\(error.localizedDescription))")
        }
        guard data.count <= maxSidecarBytes else {
            throw ModelError.invalidSidecar(path: path, key: nil, reason: "is \(data.count) bytes, more than \(maxSidecarBytes) for a sidecar")
        }
        return data
    }

    /// The labels must name exactly the classes of the first output (when it is [N, K] or
    /// [N, K, 1, 1]).
    private static func checkLabels(_ labels: [String], labelsPath: String, graph: Graph) throws {
        guard let out = graph.outputs.first else { return }
        let s = graph.values[out].shape
        guard s.rank == 2 || (s.rank == 4 && s[2] == 1 && s[3] == 1) else { return }
        guard labels.count == s[1] else {
            throw ModelError.invalidLabels(path: labelsPath, reason: "has \(labels.count) labels, but the model's output '\(graph.values[out].name)' has \(s[1]) classes")
        }
    }

    private static func describe(_ error: Error) -> String {
        guard let e = error as? BinaryDecodingError else { return "\(error)" }
        switch e {
        case .truncated: return "the protobuf data is truncated"
        case .malformedProtobuf: return "the bytes are not a protobuf message"
        case .invalidUTF8: return "a text field is not valid UTF-8"
        case .messageDepthLimit: return "messages are nested too deeply"
        default: return "the protobuf data is malformed (\(e))"
        }
    }
}
