import Foundation
import Engine
import ModelIO
import TestSupport
import Testing

/// The model zoo's graphs as the `onnx` wheel ships them in `backend/test/data/light/` (Caffe2 and
/// PyTorch exports, opset 9, IR 3, every weight a ConstantOfShape stand-in) load, with every
/// stand-in folded away. Their forward passes are compared with onnxruntime layer by layer on the
/// release build, in `CLITests/LightModelForwardTests.swift` (the debug build runs convolutions
/// far too slowly for VGG19).
@Suite("Model-zoo light graphs", .serialized,
       .enabled(if: ORTReference.lightModels != nil, "no onnx wheel with backend/test/data/light in .venv: run Scripts/setup"))
struct LightModelTests {
    static let all = ["bvlc_alexnet", "zfnet512", "vgg19", "inception_v1", "inception_v2", "resnet50",
                      "densenet121", "shufflenet", "squeezenet"]

    /// All nine load with constant folding, the layout ops (ShuffleNet's shuffle) and Sum
    /// (ResNet50's and ShuffleNet's residual additions).
    static let expectedToLoad = Set(all)
    static let refusedOnlyFor: [String: String] = [:]

    @Test(arguments: all)
    func loadsWithTheStandInsFolded(_ name: String) throws {
        let path = ORTReference.lightModels!.appendingPathComponent("light_\(name).onnx").path
        let model: Model
        do {
            model = try ModelLoader.load(path: path)
        } catch let error as ModelError {
            print("light \(name): refused: \(error)")
            #expect(!Self.expectedToLoad.contains(name), "\(name) should load: \(error)")
            if let op = Self.refusedOnlyFor[name] {
                #expect(error.description.contains("uses op '\(op)'"), "\(name) is refused for something else than \(op): \(error)")
            }
            return
        }
        let g = model.graph
        #expect(g.values[g.input].shape == Shape([1, 3, 224, 224]))
        // Every weight stand-in is gone before planning.
        #expect(g.foldedNodes.contains { $0.op == "ConstantOfShape" })
        #expect(!g.nodes.contains { $0.name.hasSuffix("_w_0") || $0.name.hasSuffix("_b_0") })
        let out = try #require(g.outputs.first)
        #expect(g.values[out].shape.count == 1000)
        print("light \(name): \(g.nodes.count) layers, \(g.foldedNodes.count) nodes folded")
    }
}
