import Foundation
import Testing

/// The model zoo's light graphs (the `onnx` wheel's `backend/test/data/light/`: Caffe2 and PyTorch
/// exports, IR 3, weights as ConstantOfShape stand-ins) through the command line: `inspect` says
/// what was folded, and `forward --dump` matches onnxruntime layer by layer within 1e-4.
@Suite(.serialized, .enabled(if: CLI.missing == nil && LightModels.folder != nil,
                             "\(CLI.missing ?? "no onnx wheel with backend/test/data/light in .venv")"))
struct LightModelForwardTests {
    static let all = ["bvlc_alexnet", "zfnet512", "vgg19", "inception_v1", "inception_v2", "resnet50",
                      "densenet121", "shufflenet", "squeezenet"]
    /// All nine load with constant folding, the layout ops (ShuffleNet's shuffle) and Sum
    /// (ResNet50's and ShuffleNet's residual additions).
    static let expectedToLoad = Set(all)
    static let refusedOnlyFor: [String: String] = [:]

    @Test("inspect lists the folded nodes by op, with their names")
    func inspectSaysWhatWasFolded() throws {
        let r = try CLI.deepscope("inspect", "--model", LightModels.folder!.appendingPathComponent("light_squeezenet.onnx").path)
        #expect(r.status == 0, "\(r.stderr)")
        // SqueezeNet has 39 weight stand-ins (the file orders them by name).
        #expect(r.stdout.contains("folded at load: 39 nodes"), "\(r.stdout.suffix(400))")
        #expect(r.stdout.contains("  ConstantOfShape ×39: conv10_b_0, conv10_w_0, conv1_w_0, "), "\(r.stdout.suffix(400))")
    }

    @Test(arguments: all)
    func forwardMatchesOnnxruntime(_ name: String) throws {
        let model = LightModels.folder!.appendingPathComponent("light_\(name).onnx").path
        let inspect = try CLI.deepscope("inspect", "--model", model, "--json")
        guard inspect.status == 0 else {
            print("light \(name): refused: \(inspect.stderr)")
            #expect(inspect.status == 2, "\(name): \(inspect.stderr)")
            #expect(!Self.expectedToLoad.contains(name), "\(name) should load: \(inspect.stderr)")
            if let op = Self.refusedOnlyFor[name] {
                #expect(inspect.stderr.contains("uses op '\(op)'"), "\(name) is refused for something else than \(op): \(inspect.stderr)")
            }
            return
        }
        let obj = try CLI.json(inspect.stdout.split(separator: "\n")[0])
        let folded = try #require(obj["folded_at_load"] as? [String: Any])
        let nodes = try #require(folded["nodes"] as? [[String: String]])
        #expect(folded["count"] as? Int == nodes.count)
        #expect(nodes.contains { $0["op"] == "ConstantOfShape" })

        let work = try CLI.temporaryDirectory("light\(name)")
        defer { try? FileManager.default.removeItem(at: work) }
        let input = work.appendingPathComponent("input.npy")
        let made = try CLI.run(CLI.python, ["-c", "import numpy as np, sys; np.save(sys.argv[1], np.random.default_rng(5).uniform(-1, 1, (1, 3, 224, 224)).astype(np.float32))", input.path])
        #expect(made.status == 0, "\(made.stderr)")
        let ours = work.appendingPathComponent("ours"), theirs = work.appendingPathComponent("ort")
        let r = try CLI.deepscope("forward", "--model", model, "--input", input.path, "--dump", ours.path)
        #expect(r.status == 0, "\(r.stderr)")
        let ourIndex = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: ours.appendingPathComponent("index.json"))) as? [String: String])
        let names = work.appendingPathComponent("names.txt")
        try ourIndex.keys.sorted().joined(separator: "\n").write(to: names, atomically: true, encoding: .utf8)
        let o = try CLI.pythonTool("ort_dump.py", [model, input.path, theirs.path, names.path])
        #expect(o.status == 0, "\(o.stderr)")
        let ortIndex = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: theirs.appendingPathComponent("index.json"))) as? [String: String])
        var worst = (name: "", error: Float(0))
        var compared = 0
        for (layer, file) in ourIndex.sorted(by: { $0.key < $1.key }) {
            guard let ortFile = ortIndex[layer] else { continue }
            let a = try CLI.readNPY(ours.appendingPathComponent(file))
            let b = try CLI.readNPY(theirs.appendingPathComponent(ortFile))
            #expect(a.shape == b.shape, "\(name) \(layer): \(a.shape) vs \(b.shape)")
            guard a.data.count == b.data.count else { continue }
            let rel = CLI.relativeError(a.data, b.data)
            #expect(rel <= 1e-4, "\(name) \(layer): relative error \(rel)")
            if rel > worst.error { worst = (layer, rel) }
            compared += 1
        }
        #expect(compared >= ourIndex.count / 2, "\(name): only \(compared) of \(ourIndex.count) layers compared")
        print("light \(name): \(ourIndex.count) layers, \(nodes.count) nodes folded; \(compared) compared with onnxruntime, worst \(worst.name) at \(worst.error)")
    }
}

/// Where the onnx wheel keeps the light models, if the venv has it.
enum LightModels {
    static let folder: URL? = {
        let lib = CLI.root.appendingPathComponent(".venv/lib")
        for p in ((try? FileManager.default.contentsOfDirectory(atPath: lib.path)) ?? []).sorted() where p.hasPrefix("python") {
            let dir = lib.appendingPathComponent("\(p)/site-packages/onnx/backend/test/data/light")
            if FileManager.default.fileExists(atPath: dir.path) { return dir }
        }
        return nil
    }()
}
