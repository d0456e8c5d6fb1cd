import Foundation
import Testing

/// `deepscope id`: the intrinsic dimension of a point set against an independent NumPy
/// implementation (Tests/reference/twonn.py), and of each layer's representation of the demo photos.
@Suite(.enabled(if: CLI.missing == nil, "\(CLI.missing ?? "")"), .serialized)
struct IntrinsicDimensionTests {
    @Test("id --points agrees with the NumPy reference on curved manifolds with repeated rows", arguments: [2, 6])
    func pointsMatchTheReference(d: Int) throws {
        let work = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let points = work.appendingPathComponent("points.npy").path
        let made = try CLI.pythonTool("twonn.py", ["make", points, "--d", "\(d)", "--ambient", "40", "--n", "900",
                                                   "--seed", "\(d)", "--repeat", "25"])
        try #require(made.status == 0, "\(made.stderr)")
        let reference = try CLI.json(Substring(try CLI.pythonTool("twonn.py", ["measure", points]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        let r = try CLI.deepscope("id", "--points", points, "--json")
        try #require(r.status == 0, "\(r.stderr)")
        let ours = try CLI.json(Substring(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        let id = try #require(ours["id"] as? Double), expected = try #require(reference["id"] as? Double)
        #expect(abs(id - expected) < 1e-6 * expected, "id \(id) vs NumPy \(expected)")
        #expect(ours["n"] as? Int == 900 && reference["n"] as? Int == 900)
        #expect(ours["duplicates"] as? Int == 25)
        #expect(ours["pca90"] as? Int == reference["pca90"] as? Int)
        let std = try #require(ours["std"] as? Double)
        #expect(std > 0 && std < Double(d))
    }

    @Test("id --points refuses an array that is not [N, D], naming the file and its shape")
    func wrongShape() throws {
        let work = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let input = work.appendingPathComponent("x.npy").path
        try #require(try CLI.pythonTool("make_input.py", [CLI.defaultModel, CLI.root.appendingPathComponent("Assets/demo/chelsea.png").path, input]).status == 0)
        let r = try CLI.deepscope("id", "--points", input)
        #expect(r.status == 2)
        #expect(r.stderr.contains(input) && r.stderr.contains("[1, 3, 224, 224]") && r.stderr.contains("[N, D]"), "\(r.stderr)")
        let both = try CLI.deepscope("id", "--points", input, "--images", work.path)
        #expect(both.status == 2 && both.stderr.contains("exactly one"), "\(both.stderr)")
        let plot = try CLI.deepscope("id", "--points", input, "--plot", work.appendingPathComponent("p.png").path)
        #expect(plot.status == 2 && plot.stderr.contains("needs --images"), "\(plot.stderr)")
    }

    @Test("id --images prints one line per chosen layer, in depth order, over the demo photos, and plots them")
    func layersOfTheDemoPhotos() throws {
        let demo = CLI.root.appendingPathComponent("Assets/demo").path
        let work = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let plot = work.appendingPathComponent("id.png").path
        let r = try CLI.deepscope("id", "--images", demo, "--layers", "stem_relu6,blk09_add,prob", "--json", "--plot", plot)
        try #require(r.status == 0, "\(r.stderr)")
        let lines = try r.stdout.split(separator: "\n").map(CLI.json)
        #expect(lines.map { $0["layer"] as? String } == ["stem_relu6", "blk09_add", "prob"])
        let depths = lines.compactMap { $0["depth"] as? Double }
        #expect(depths.count == 3 && depths == depths.sorted() && depths.last == 1)
        for line in lines {
            #expect(line["n"] as? Int == 4)
            let id = try #require(line["id"] as? Double)
            #expect(id > 0 && id.isFinite)
            #expect((line["pca90"] as? Int).map { (1...3).contains($0) } == true, "4 points span at most 3 components")
        }
        let size = try CLI.run(CLI.python, ["-c", "from PIL import Image; import sys; im = Image.open(sys.argv[1]); print(im.size, len(set(im.convert('RGB').getdata())))", plot])
        #expect(size.stdout.hasPrefix("(960, 540)"), "\(size.stdout) \(size.stderr)")
        #expect((Int(size.stdout.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0) > 20,
                "a plot with axes, labels and two curves has many colours")
        let missing = try CLI.deepscope("id", "--images", demo, "--layers", "no_such_layer")
        #expect(missing.status == 2 && missing.stderr.contains("no_such_layer"), "\(missing.stderr)")
    }
}
