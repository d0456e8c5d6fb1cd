import Foundation
import Engine
import ModelIO
import TestSupport
import Testing

/// onnxruntime as the reference for whole models: `Tests/reference/ort_dump.py` run from the
/// setup step's venv, and a node-by-node comparison of a loaded model's every layer with it.
enum ORTReference {
    /// The package root (this file is Tests/ModelIOTests/ORTReference.swift).
    static let root: URL = {
        if let r = ProcessInfo.processInfo.environment["DEEPSCOPE_ROOT"] { return URL(fileURLWithPath: r) }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }()
    static let python = root.appendingPathComponent(".venv/bin/python").path

    /// Why the comparison cannot run here, or nil when it can.
    static var missing: String? {
        FileManager.default.isExecutableFile(atPath: python) ? nil : "no .venv with onnxruntime: run Scripts/setup"
    }

    /// The onnx wheel's folder of model-zoo graphs with ConstantOfShape weights.
    static let lightModels: URL? = {
        let lib = root.appendingPathComponent(".venv/lib")
        guard let pythons = try? FileManager.default.contentsOfDirectory(atPath: lib.path) else { return nil }
        for p in pythons.sorted() where p.hasPrefix("python") {
            let dir = lib.appendingPathComponent("\(p)/site-packages/onnx/backend/test/data/light")
            if FileManager.default.fileExists(atPath: dir.path) { return dir }
        }
        return nil
    }()

    /// onnxruntime's value of each of `names` for `input`, as (shape, data); names it does not
    /// have are absent.
    static func values(model path: String, input: [Float], shape: [Int], names: [String]) throws -> [String: ([Int], [Float])] {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let inputPath = dir.appendingPathComponent("input.npy").path
        try NPY.write(path: inputPath, shape: shape, data: input)
        let namesPath = dir.appendingPathComponent("names.txt")
        try names.joined(separator: "\n").write(to: namesPath, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("ort")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [root.appendingPathComponent("Tests/reference/ort_dump.py").path, path, inputPath, out.path, namesPath.path]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw ORTFailure(message: "ort_dump.py failed on \(path): " + String(decoding: errData, as: UTF8.self))
        }
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("index.json"))) as! [String: String]
        var result: [String: ([Int], [Float])] = [:]
        for (name, file) in index {
            let t = try NPY.read(path: out.appendingPathComponent(file).path)
            result[name] = (t.shape, t.data)
        }
        return result
    }

    struct ORTFailure: Error, CustomStringConvertible { var message: String; var description: String { message } }

    /// What a node-by-node comparison found.
    struct Comparison {
        /// Layers compared, and the worst relative error among them.
        var compared = 0
        var worst: (name: String, error: Float) = ("", 0)
        /// Layers whose shape or values differ (relative error above the tolerance).
        var mismatches: [String] = []
    }

    /// Runs `model` (loaded from the file at `path`) on `input` and compares every layer that
    /// onnxruntime also computes (the graph outputs always) within `tolerance` relative error.
    /// `referenceInput` is the input in the model's declared layout when it differs from the
    /// engine's (an NHWC graph input).
    static func compare(_ model: Model, path: String, input: [Float], referenceInput: ([Int], [Float])? = nil,
                        tolerance: Float = 1e-4) throws -> Comparison {
        let network = Network(graph: model.graph, threads: 2)
        _ = network.input.update(fromContentsOf: input)
        network.forward()
        network.materializeAll()
        let graph = model.graph
        let names = graph.nodes.map(\.name)
        let (shape, data) = referenceInput ?? (graph.values[graph.input].shape.dims, input)
        let reference = try values(model: path, input: data, shape: shape, names: names)
        var c = Comparison()
        for node in graph.nodes {
            guard let (shape, data) = reference[node.name] else { continue }
            let ours = Array(network.buffer(node.output))
            let error = shape.reduce(1, *) == ours.count ? maxRelativeError(ours, data) : .infinity
            c.compared += 1
            if error > c.worst.error { c.worst = (node.name, error) }
            if !(error <= tolerance) { c.mismatches.append("\(node.name) (\(node.op.kindName)): \(error)") }
        }
        for o in graph.outputs where reference[graph.values[o].name] == nil {
            c.mismatches.append("\(graph.values[o].name): onnxruntime did not compute it")
        }
        return c
    }
}

extension ONNXBuilder {
    /// Writes the model to a temporary file; the caller removes the folder.
    func write() throws -> (folder: URL, path: String) {
        let dir = try temporaryFolder()
        let path = dir.appendingPathComponent("model.onnx").path
        try data().write(to: URL(fileURLWithPath: path))
        return (dir, path)
    }
}
