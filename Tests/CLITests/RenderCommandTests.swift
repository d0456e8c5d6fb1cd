import Foundation
import Testing

/// `deepscope render` on the default model: a PNG of the window at the requested size, and bad
/// input refused with exit status 2 and no file.
@Suite(.serialized, .enabled(if: CLI.missing == nil, "\(CLI.missing ?? "")"))
struct RenderCommandTests {
    /// Width, height and colour type of a PNG (from its IHDR chunk).
    static func pngHeader(_ url: URL) throws -> (width: Int, height: Int, colorType: UInt8) {
        let d = try Data(contentsOf: url)
        #expect(d.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        let be = { (o: Int) -> Int in (0..<4).reduce(0) { $0 << 8 | Int(d[d.startIndex + o + $1]) } }
        return (be(16), be(20), d[d.startIndex + 25])
    }

    @Test("render writes a PNG of the window at the requested size", arguments: [("1280x800", 1280, 800), ("640x400", 640, 400), ("2560x1600", 2560, 1600)])
    func writesTheWindow(size: String, width: Int, height: Int) throws {
        let (photos, _) = try ModelCommandsTests.photos()
        defer { try? FileManager.default.removeItem(at: photos) }
        let out = photos.appendingPathComponent("view.png")
        var args = ["render", "--image", photos.appendingPathComponent("chelsea.png").path, "--size", size, "--out", out.path]
        if width == 2560 { args += ["--scale", "2"] }
        let r = try CLI.deepscope(args)
        #expect(r.status == 0, "\(r.stderr)")
        let h = try Self.pngHeader(out)
        #expect(h.width == width && h.height == height)
        #expect(h.colorType == 6, "RGBA")
    }

    @Test("render with a layer, unit, position and every mode")
    func explicitSelection() throws {
        let (photos, _) = try ModelCommandsTests.photos()
        defer { try? FileManager.default.removeItem(at: photos) }
        let image = photos.appendingPathComponent("chelsea.png").path
        for (layer, unit, extra) in [("blk09_add", "96", ["--at", "7,7", "--mode", "deconv"]), ("logits", "281", ["--mode", "gradient"]),
                                     ("stem_relu6", "12", ["--mode", "off", "--colormap", "viridis"]),
                                     ("head_relu6", "112", ["--filter", "norm+blur"])] {
            let out = photos.appendingPathComponent("\(layer).png")
            let r = try CLI.deepscope(["render", "--image", image, "--layer", layer, "--unit", unit, "--size", "800x500", "--out", out.path] + extra)
            #expect(r.status == 0, "\(layer): \(r.stderr)")
            #expect(try Self.pngHeader(out).width == 800)
        }
    }

    @Test("bad input: exit 2, one sentence, no file", arguments: [
        (["--image", "/nonexistent/cat.png"], "cat.png"),
        (["--layer", "no_such_layer"], "no_such_layer"),
        (["--layer", "blk09_add", "--unit", "5000"], "5000"),
        (["--layer", "blk09_add", "--unit", "1", "--at", "99,0"], "99"),
        (["--mode", "sideways"], "sideways"),
        (["--size", "12xbig"], "12xbig"),
        (["--filter", "sepia"], "sepia"),
    ])
    func badInput(extra: [String], mentions: String) throws {
        let (photos, _) = try ModelCommandsTests.photos()
        defer { try? FileManager.default.removeItem(at: photos) }
        let out = photos.appendingPathComponent("bad.png")
        var args = ["render", "--out", out.path] + extra
        if !extra.contains("--image") { args += ["--image", photos.appendingPathComponent("chelsea.png").path] }
        let r = try CLI.deepscope(args)
        #expect(r.status == 2, "\(extra): status \(r.status), stderr \(r.stderr)")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1 && r.stderr.contains(mentions), "\(extra): \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.path), "\(extra) left a file")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: photos.path).filter { $0.contains("bad") }
        #expect(leftovers.isEmpty, "temporary files: \(leftovers)")
    }
}
