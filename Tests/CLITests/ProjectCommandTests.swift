import Foundation
import Testing

/// `deepscope project` on the default model: the contract's format, bad input, and where the
/// projection of a high-level unit lands.
@Suite(.serialized, .enabled(if: CLI.missing == nil, "\(CLI.missing ?? "")"))
struct ProjectCommandTests {
    /// A preprocessed photo and the forward dump of it.
    struct Prepared {
        var work: URL
        var input: URL
        var index: [String: String]
        var dump: URL

        func activation(_ layer: String) throws -> (shape: [Int], data: [Float]) {
            try CLI.readNPY(dump.appendingPathComponent(try #require(index[layer])))
        }
    }

    static func prepare(_ photo: String) throws -> Prepared {
        let (photos, _) = try ModelCommandsTests.photos()
        defer { try? FileManager.default.removeItem(at: photos) }
        let work = try CLI.temporaryDirectory("project")
        let input = work.appendingPathComponent("x.npy")
        let made = try CLI.pythonTool("make_input.py", [CLI.defaultModel, photos.appendingPathComponent(photo).path, input.path])
        #expect(made.status == 0, "\(made.stderr)")
        let dump = work.appendingPathComponent("dump")
        let r = try CLI.deepscope("forward", "--input", input.path, "--dump", dump.path)
        #expect(r.status == 0, "\(r.stderr)")
        let index = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: dump.appendingPathComponent("index.json"))) as? [String: String])
        return Prepared(work: work, input: input, index: index, dump: dump)
    }

    @Test("A deconv or guided projection of a blk09 unit concentrates around the unit's argmax", arguments: ["chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png"])
    func projectionConcentratesWhereTheUnitFires(photo: String) throws {
        let p = try Self.prepare(photo)
        defer { try? FileManager.default.removeItem(at: p.work) }
        // The channel with the largest single activation, and where it is.
        let a = try p.activation("blk09_add")
        let (c, h, w) = (a.shape[1], a.shape[2], a.shape[3])
        var best = (channel: 0, y: 0, x: 0, value: -Float.infinity)
        for ch in 0..<c {
            for i in 0..<(h * w) where a.data[ch * h * w + i] > best.value { best = (ch, i / w, i % w, a.data[ch * h * w + i]) }
        }
        let stride = 224 / h
        let (cy, cx) = (best.y * stride + stride / 2, best.x * stride + stride / 2)
        let radius = 64
        let boxArea = Double((min(224, cy + radius) - max(0, cy - radius)) * (min(224, cx + radius) - max(0, cx - radius)))
        for mode in ["deconv", "guided"] {
            let out = p.work.appendingPathComponent("\(mode).npy")
            let r = try CLI.deepscope("project", "--input", p.input.path, "--layer", "blk09_add", "--unit", "\(best.channel)",
                                      "--at", "\(best.y),\(best.x)", "--mode", mode, "--out", out.path)
            #expect(r.status == 0, "\(r.stderr)")
            let g = try CLI.readNPY(out)
            #expect(g.shape == [1, 3, 224, 224])
            var total = 0.0, inside = 0.0
            for ch in 0..<3 {
                for y in 0..<224 {
                    for x in 0..<224 {
                        let v = Double(g.data[ch * 224 * 224 + y * 224 + x])
                        total += v * v
                        if abs(y - cy) < radius && abs(x - cx) < radius { inside += v * v }
                    }
                }
            }
            #expect(total > 0, "\(mode) projection of blk09_add/\(best.channel) is all zero")
            let fraction = inside / total, uniform = boxArea / (224 * 224)
            #expect(fraction > 0.5 && fraction > 1.5 * uniform,
                    "\(photo) \(mode): \(fraction) of the energy within \(radius) px of the argmax (a uniform spread puts \(uniform) there)")
        }
    }

    @Test("An --at seed of a fully connected class unit projects onto the input in every mode")
    func classUnit() throws {
        let p = try Self.prepare("chelsea.png")
        defer { try? FileManager.default.removeItem(at: p.work) }
        for mode in ["deconv", "guided", "gradient"] {
            let out = p.work.appendingPathComponent("\(mode).npy")
            let r = try CLI.deepscope("project", "--input", p.input.path, "--layer", "logits", "--unit", "281",
                                      "--at", "0,0", "--mode", mode, "--out", out.path)
            #expect(r.status == 0, "\(r.stderr)")
            let g = try CLI.readNPY(out)
            #expect(g.data.contains { $0 != 0 })
        }
    }

    @Test("Bad units: one sentence naming the valid range, exit 2, no output file")
    func badUnits() throws {
        let p = try Self.prepare("coffee.png")
        defer { try? FileManager.default.removeItem(at: p.work) }
        let out = p.work.appendingPathComponent("never.npy")
        let cases: [([String], String)] = [
            (["--layer", "no_such_layer", "--unit", "0"], "no_such_layer"),
            (["--layer", "blk09_add", "--unit", "112"], "0 to 111"),
            (["--layer", "blk09_add", "--unit=-1"], "0 to 111"),
            (["--layer", "blk09_add", "--unit", "3", "--at", "14,0"], "14×14"),
            (["--layer", "blk09_add", "--unit", "3", "--at", "2"], "Y,X"),
            (["--layer", "stem_conv", "--unit", "0"], "stem_bn"),
        ]
        for (args, mention) in cases {
            let r = try CLI.deepscope(["project", "--input", p.input.path, "--mode", "deconv", "--out", out.path] + args)
            #expect(r.status == 2, "\(args): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains(mention), "\(args): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out.path))
        }
        let r = try CLI.deepscope("project", "--input", p.input.path, "--layer", "blk09_add", "--unit", "0",
                                  "--mode", "backprop", "--out", out.path)
        #expect(r.status == 2 && r.stderr.contains("deconv, guided or gradient"))
    }
}
