import Foundation
import Engine
import ModelIO
import Testing

/// The default model, when the setup step has produced it (it is not committed).
let defaultModelPath = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Assets/models/efficientnet-lite0.onnx").path

@Suite struct DefaultModelTests {
    @Test(.enabled(if: FileManager.default.fileExists(atPath: defaultModelPath), "Assets/models/efficientnet-lite0.onnx is absent"))
    func efficientNetLite0Loads() throws {
        let start = Date()
        let m = try ModelLoader.load(path: defaultModelPath)
        let seconds = Date().timeIntervalSince(start)
        print("efficientnet-lite0: \(m.graph.nodes.count) nodes, \(m.graph.values.count) values, producer '\(m.producer)', "
              + "loaded in \(String(format: "%.3f", seconds)) s")
        #expect(m.graph.values[m.graph.input].shape == Shape([1, 3, 224, 224]))
        let out = try #require(m.graph.outputs.first)
        #expect(m.graph.values[out].shape == Shape([1, 1000]))
        #expect(m.labels?.count == 1000)
        #expect(m.preprocessing.inputSize == [224, 224])
        // Every BatchNormalization is folded into its convolution.
        #expect(!m.graph.nodes.contains { if case .batchNorm = $0.op { return true } else { return false } })
        #expect(m.graph.nodes.contains { $0.name == "blk09_add" })
    }
}
