import Foundation
import Testing

/// `classify`, `forward` and `inspect` on the default model, checked against onnxruntime and real
/// photos.
@Suite(.serialized, .enabled(if: CLI.missing == nil, "\(CLI.missing ?? "")"))
struct ModelCommandsTests {
    /// scikit-image's colour photos and the ImageNet classes that count as right for each.
    static func photos() throws -> (dir: URL, list: [(file: String, classes: Set<Int>)]) {
        let dir = try CLI.temporaryDirectory("photos")
        let r = try CLI.pythonTool("skimage_photos.py", [dir.path])
        #expect(r.status == 0, "skimage_photos.py: \(r.stderr)")
        let list = try #require(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        return (dir, list.compactMap { e in
            guard let f = e["file"] as? String, let c = e["classes"] as? [Int] else { return nil }
            return (f, Set(c))
        })
    }

    @Test("Every bundled scikit-image colour photo classifies right")
    func photosClassifyRight() throws {
        let (dir, list) = try Self.photos()
        #expect(list.count >= 5)
        let r = try CLI.deepscope(["classify", "--json", "--top", "5"] + list.map { dir.appendingPathComponent($0.file).path })
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == list.count)
        for (line, photo) in zip(lines, list) {
            let obj = try CLI.json(line)
            #expect((obj["image"] as? String)?.hasSuffix(photo.file) == true)
            let top = try #require(obj["top"] as? [[String: Any]])
            #expect(top.count == 5)
            let first = try #require(top.first)
            let index = try #require(first["index"] as? Int)
            #expect(photo.classes.contains(index), "\(photo.file) → \(first)")
            #expect((first["label"] as? String)?.isEmpty == false)
            let probs = top.compactMap { $0["prob"] as? Double }
            #expect(probs == probs.sorted(by: >), "probabilities sorted")
            #expect(probs.allSatisfy { $0 >= 0 && $0 <= 1 })
        }
        try? FileManager.default.removeItem(at: dir)
    }

    @Test("classify --json uses the contract's format: tabby is class 281")
    func classifyLabels() throws {
        let (dir, _) = try Self.photos()
        let r = try CLI.deepscope("classify", "--json", "--top", "1000", dir.appendingPathComponent("chelsea.png").path)
        #expect(r.status == 0)
        let obj = try CLI.json(r.stdout.split(separator: "\n")[0])
        let top = try #require(obj["top"] as? [[String: Any]])
        #expect(top.count == 1000)
        let tabby = try #require(top.first { ($0["index"] as? Int) == 281 })
        #expect(tabby["label"] as? String == "tabby")
        let total = top.compactMap { $0["prob"] as? Double }.reduce(0, +)
        #expect(abs(total - 1) < 1e-3)
        try? FileManager.default.removeItem(at: dir)
    }

    @Test("forward matches onnxruntime layer by layer within 1e-4 relative error")
    func forwardMatchesOnnxruntime() throws {
        let (photos, _) = try Self.photos()
        let work = try CLI.temporaryDirectory("forward")
        let input = work.appendingPathComponent("chelsea.npy")
        let made = try CLI.pythonTool("make_input.py", [CLI.defaultModel, photos.appendingPathComponent("chelsea.png").path, input.path])
        #expect(made.status == 0, "\(made.stderr)")
        let ours = work.appendingPathComponent("ours"), theirs = work.appendingPathComponent("ort")
        let r = try CLI.deepscope("forward", "--model", CLI.defaultModel, "--input", input.path, "--dump", ours.path)
        #expect(r.status == 0, "\(r.stderr)")
        let o = try CLI.pythonTool("ort_dump.py", [CLI.defaultModel, input.path, theirs.path])
        #expect(o.status == 0, "\(o.stderr)")

        let ourIndex = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: ours.appendingPathComponent("index.json"))) as? [String: String])
        let ortIndex = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: theirs.appendingPathComponent("index.json"))) as? [String: String])
        // Every layer we keep exists in onnxruntime's graph (a convolution folded with its
        // BatchNormalization is reported under the BatchNormalization's name).
        // The converted graph has 144 nodes; its 49 convolutions are folded into their BatchNorms.
        #expect(ourIndex.count == 95)
        var worst = (name: "", error: Float(0))
        for (name, file) in ourIndex.sorted(by: { $0.key < $1.key }) {
            let ortFile = try #require(ortIndex[name], "onnxruntime has no layer \(name)")
            let a = try CLI.readNPY(ours.appendingPathComponent(file))
            let b = try CLI.readNPY(theirs.appendingPathComponent(ortFile))
            #expect(a.shape == b.shape, "\(name): \(a.shape) vs \(b.shape)")
            guard a.data.count == b.data.count else { continue }
            let rel = CLI.relativeError(a.data, b.data)
            #expect(rel <= 1e-4, "\(name): relative error \(rel)")
            if rel > worst.error { worst = (name, rel) }
        }
        print("forward vs onnxruntime: \(ourIndex.count) layers, worst \(worst.name) at \(worst.error)")
        try? FileManager.default.removeItem(at: work)
        try? FileManager.default.removeItem(at: photos)
    }

    @Test("inspect lists every layer with shapes, multiply-adds and parameters")
    func inspect() throws {
        let r = try CLI.deepscope("inspect", "--json")
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try CLI.json(r.stdout.split(separator: "\n")[0])
        let layers = try #require(obj["layers"] as? [[String: Any]])
        let names = layers.compactMap { $0["name"] as? String }
        for expected in ["stem_relu6", "blk09_add", "head_relu6", "pool", "logits", "prob"] {
            #expect(names.contains(expected))
        }
        // The checkpoint's trainable parameters: 4,652,008 (folded BatchNorms keep their count
        // only as the folded bias, so the total is the checkpoint's minus BN scales).
        let params = try #require(obj["parameters"] as? Int)
        #expect(params > 4_000_000 && params < 5_000_000)
        let macs = try #require(obj["macs"] as? Int)
        #expect(macs > 350_000_000 && macs < 420_000_000, "EfficientNet-Lite0 is ~0.39 G multiply-adds, got \(macs)")
        let first = try #require(layers.first { $0["name"] as? String == "stem_bn" })
        #expect(first["shape"] as? [Int] == [1, 32, 112, 112])
        #expect(first["folded"] as? [String] == ["stem_conv"])
    }
}
