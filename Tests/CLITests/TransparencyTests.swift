import Foundation
import Testing

/// PNGs with transparent pixels classify as the README's reference pipeline does: Pillow's
/// `convert("RGB")`, which drops alpha and keeps the colour channels as stored (no compositing
/// onto a background), as torchvision's loaders give images to the models' trainers.
@Suite(.serialized, .enabled(if: CLI.missing == nil, "\(CLI.missing ?? "")"))
struct TransparencyTests {
    @Test("RGBA, grey + alpha and palette + tRNS PNGs: the reference's top five, probabilities within 1e-3")
    func transparentPixelsKeepTheirColour() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = CLI.root.appendingPathComponent("Assets/models/efficientnet-lite0.onnx").path
        let reference = try CLI.pythonTool("transparent_cases.py", [dir.path, model])
        #expect(reference.status == 0, "transparent_cases.py: \(reference.stderr)")
        let cases = try reference.stdout.split(separator: "\n").map { try CLI.json($0) }
        #expect(cases.count == 3)
        for expected in cases {
            let file = try #require(expected["file"] as? String)
            let top = try #require(expected["top"] as? [[Double]])
            let r = try CLI.deepscope("classify", "--json", "--top", "5", dir.appendingPathComponent(file).path)
            #expect(r.status == 0, "\(r.stderr)")
            let ours = try #require(try CLI.json(r.stdout.split(separator: "\n")[0])["top"] as? [[String: Any]])
            #expect(ours.compactMap { $0["index"] as? Int } == top.map { Int($0[0]) }, "\(file): \(ours) vs \(top)")
            for (o, t) in zip(ours, top) {
                let p = try #require(o["prob"] as? Double)
                #expect(abs(p - t[1]) < 1e-3, "\(file): \(p) vs \(t[1])")
            }
        }
    }
}
