import Foundation
import Testing

/// An op the engine lacks, or an attribute form it does not handle: one sentence naming the node,
/// the op and the opset, exit status 2. A model of the new ops loads.
@Suite(.enabled(if: CLI.missing == nil, "\(CLI.missing ?? "")"))
struct OpRefusalTests {
    /// Writes a one-node model `op` (4-D input x, output y) with `attributes` (Python keyword
    /// arguments) at `opset`, with the venv's onnx.
    func model(_ op: String, opset: Int, inputs: String = "['x']", attributes: String = "", inits: String = "[]") throws -> String {
        let dir = try CLI.temporaryDirectory("refusal")
        let path = dir.appendingPathComponent("\(op).onnx").path
        let code = """
        import numpy as np, onnx
        from onnx import helper, numpy_helper
        node = helper.make_node('\(op)', \(inputs), ['y'], name='the_node'\(attributes.isEmpty ? "" : ", " + attributes))
        g = helper.make_graph([node], 'g', [helper.make_tensor_value_info('x', 1, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info('y', 1, None)], \(inits))
        m = helper.make_model(g, opset_imports=[helper.make_opsetid('', \(opset))])
        m.ir_version = 8
        onnx.save(m, '\(path)')
        """
        let r = try CLI.run(CLI.python, ["-c", code])
        try #require(r.status == 0, "\(r.stderr)")
        return path
    }

    func expectRefusal(_ path: String, mentions: [String]) throws {
        let r = try CLI.deepscope("inspect", "--model", path)
        #expect(r.status == 2, "exit status \(r.status), stderr: \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "one sentence: \(r.stderr)")
        for m in mentions { #expect(r.stderr.contains(m), "'\(m)' in: \(r.stderr)") }
    }

    @Test func missingOpNamesTheNodeTheOpAndTheOpset() throws {
        try expectRefusal(try model("GridSample", opset: 16, inputs: "['x', 'x']"),
                          mentions: ["Node 'y'", "'GridSample'", "opset 16", "does not support"])
    }

    @Test func unhandledAttributeFormNamesTheNodeTheOpAndTheOpset() throws {
        let scales = "[numpy_helper.from_array(np.array([1, 1, 2, 2], dtype=np.float32), 's')]"
        try expectRefusal(try model("Resize", opset: 13, inputs: "['x', '', 's']", attributes: "mode='cubic'", inits: scales),
                          mentions: ["Node 'y' (Resize)", "mode 'cubic'", "opset 13"])
    }

    @Test func newOpsLoad() throws {
        let slope = "[numpy_helper.from_array(np.full((3, 1, 1), 0.25, dtype=np.float32), 'a')]"
        let r = try CLI.deepscope("inspect", "--model", try model("PRelu", opset: 13, inputs: "['x', 'a']", inits: slope))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("PRelu"))
    }
}
