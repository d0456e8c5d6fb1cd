import Foundation
import Engine
import ModelIO
import Testing

/// Small graphs in the shapes exporters emit (Tests/reference/exporter_blocks.py: a squeeze-excite
/// block with HardSigmoid, a ConvNeXt block with the exported LayerNorm and Gelu and
/// LayerNormalization itself, and one of Sub, Div, Max, Min, Sum, PRelu, Elu, Selu, Softplus,
/// InstanceNormalization, reflect and edge Pad, the reductions and LogSoftmax, and one with Resize
/// and ConvTranspose), loaded and run by
/// DeepScope and compared node by node with onnxruntime (ort_dump.py).
@Suite("Exporter-shaped blocks against onnxruntime")
struct ExporterBlockTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let python = root.appendingPathComponent(".venv/bin/python").path

    static func run(_ script: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [root.appendingPathComponent("Tests/reference/\(script)").path] + arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: python), "the venv is absent (run Scripts/setup)"),
          arguments: ["se_hardsigmoid", "convnext", "assorted", "resize"])
    func everyNodeMatchesOnnxruntime(_ block: String) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("deepscope-blocks-\(block)-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: dir) }
        let made = try Self.run("exporter_blocks.py", [dir.path])
        try #require(made.status == 0, "\(made.output)")
        let model = dir.appendingPathComponent("\(block).onnx").path, input = dir.appendingPathComponent("\(block).npy").path
        let theirs = dir.appendingPathComponent(block)
        let dumped = try Self.run("ort_dump.py", [model, input, theirs.path])
        try #require(dumped.status == 0, "\(dumped.output)")
        let index = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: theirs.appendingPathComponent("index.json"))) as? [String: String])

        let m = try ModelLoader.load(path: model)
        let network = Network(graph: m.graph, threads: 2)
        let x = try NPY.read(path: input)
        _ = network.input.update(fromContentsOf: x.data)
        network.forward()
        network.materializeAll()
        var compared = 0
        for node in m.graph.nodes {
            // Nodes DeepScope adds (an import's intermediate steps) have no onnxruntime value.
            guard let file = index[node.name] else { continue }
            let expected = try NPY.read(path: theirs.appendingPathComponent(file).path)
            let ours = Array(network.buffer(node.output))
            #expect(ours.count == expected.data.count, "\(block): '\(node.name)' has \(ours.count) values, onnxruntime \(expected.data.count)")
            let scale = expected.data.map(abs).max() ?? 0
            var worst: Float = 0
            for (a, b) in zip(ours, expected.data) { worst = max(worst, abs(a - b)) }
            #expect(worst <= 1e-4 * max(scale, 1e-6), "\(block): '\(node.name)' (\(node.op.kindName)) differs by \(worst), scale \(scale)")
            compared += 1
        }
        print("\(block): \(compared) nodes compared with onnxruntime")
        #expect(compared >= 6)
    }
}
