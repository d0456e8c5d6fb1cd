import Foundation
import Testing

/// Bad input: one clear sentence on stderr, exit status 2, no crash, no partial output.
@Suite(.enabled(if: CLI.binary != nil && FileManager.default.fileExists(atPath: CLI.defaultModel), "no deepscope binary or default model: run Scripts/test"))
struct BadInputTests {
    /// Checks the contract for one bad invocation: exit 2, one line on stderr mentioning `mentions`.
    func expectBadInput(_ args: [String], mentions: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try CLI.deepscope(args)
        #expect(r.status == 2, "exit status for \(args): \(r.status), stderr: \(r.stderr)", sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr should be one sentence: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(mentions), "stderr should name \(mentions): \(r.stderr)", sourceLocation: sourceLocation)
    }

    @Test func missingModel() throws {
        try expectBadInput(["inspect", "--model", "/nonexistent/model.onnx"], mentions: "/nonexistent/model.onnx")
    }

    @Test func truncatedModel() throws {
        let dir = try CLI.temporaryDirectory()
        let path = dir.appendingPathComponent("cut.onnx")
        let data = try Data(contentsOf: URL(fileURLWithPath: CLI.defaultModel))
        try data.prefix(data.count / 3).write(to: path)
        try expectBadInput(["inspect", "--model", path.path], mentions: path.path)
    }

    @Test func notAnOnnxFile() throws {
        let dir = try CLI.temporaryDirectory()
        let path = dir.appendingPathComponent("text.onnx")
        try Data("this is not a model\n".utf8).write(to: path)
        try expectBadInput(["inspect", "--model", path.path], mentions: path.path)
    }

    @Test func undecodableImage() throws {
        let dir = try CLI.temporaryDirectory()
        let path = dir.appendingPathComponent("broken.png")
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3]).write(to: path)
        try expectBadInput(["classify", path.path], mentions: path.path)
    }

    @Test func missingImage() throws {
        try expectBadInput(["classify", "/nonexistent/cat.jpg"], mentions: "/nonexistent/cat.jpg")
    }

    /// Writes a .npy with the given dtype and shape in the header and `bytes` of data.
    func writeNPY(_ url: URL, descr: String, shape: [Int], bytes: Int) throws {
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(shape.map(String.init).joined(separator: ", ")),), }"
        while (10 + header.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var d = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)])
        d.append(Data(header.utf8))
        d.append(Data(count: bytes))
        try d.write(to: url)
    }

    @Test func npyOfWrongDtype() throws {
        let dir = try CLI.temporaryDirectory()
        let input = dir.appendingPathComponent("x.npy"), out = dir.appendingPathComponent("dump")
        try writeNPY(input, descr: "<f8", shape: [1, 3, 224, 224], bytes: 8 * 3 * 224 * 224)
        try expectBadInput(["forward", "--input", input.path, "--dump", out.path], mentions: input.path)
        #expect(!FileManager.default.fileExists(atPath: out.path), "no output directory after bad input")
    }

    @Test func npyOfWrongShape() throws {
        let dir = try CLI.temporaryDirectory()
        let input = dir.appendingPathComponent("x.npy"), out = dir.appendingPathComponent("dump")
        try writeNPY(input, descr: "<f4", shape: [1, 3, 200, 200], bytes: 4 * 3 * 200 * 200)
        try expectBadInput(["forward", "--input", input.path, "--dump", out.path], mentions: "[1, 3, 224, 224]")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test func truncatedNPY() throws {
        let dir = try CLI.temporaryDirectory()
        let input = dir.appendingPathComponent("x.npy"), out = dir.appendingPathComponent("dump")
        try writeNPY(input, descr: "<f4", shape: [1, 3, 224, 224], bytes: 1000)
        try expectBadInput(["forward", "--input", input.path, "--dump", out.path], mentions: input.path)
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test func unknownOptionIsBadInput() throws {
        let r = try CLI.deepscope("classify", "--no-such-option")
        #expect(r.status == 2)
    }
}
