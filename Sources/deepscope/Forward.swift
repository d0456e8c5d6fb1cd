import ArgumentParser
import Engine
import Foundation
import ModelIO

struct Forward: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Runs the network on an input tensor and writes every layer's output as .npy.")

    @OptionGroup var options: ModelOptions

    @Option(name: .long, help: "Input tensor: NumPy .npy, float32, the model's input shape (NCHW).")
    var input: String

    @Option(name: .long, help: "Directory for <layer>.npy files and index.json (created if missing).")
    var dump: String

    func run() throws {
        let (model, network) = try options.load()
        try loadInput(path: input, into: network, model: model)
        network.forward()
        network.materializeAll()

        let dir = URL(fileURLWithPath: dump)
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            throw UserError("Cannot create the dump directory \(dump): \(error.localizedDescription)")
        }
        var index: [String: String] = [:]
        var used = Set<String>()
        for node in network.graph.nodes {
            var file = LayerFileName.sanitized(node.name) + ".npy"
            var n = 2
            while used.contains(file) { file = LayerFileName.sanitized(node.name) + "_\(n).npy"; n += 1 }
            used.insert(file)
            let shape = network.graph.values[node.output].shape
            do {
                try NPY.write(path: dir.appendingPathComponent(file).path, shape: shape.dims,
                              data: UnsafeBufferPointer(network.buffer(node.output)))
            } catch {
                throw UserError(String(describing: error), status: 1)
            }
            index[node.name] = file
        }
        let json = try JSONSerialization.data(withJSONObject: index, options: [.sortedKeys, .prettyPrinted])
        do {
            try json.write(to: dir.appendingPathComponent("index.json"), options: .atomic)
        } catch {
            throw UserError("Cannot write \(dir.appendingPathComponent("index.json").path): \(error.localizedDescription)", status: 1)
        }
        FileHandle.standardError.write(Data("Wrote \(index.count) layers to \(dump).\n".utf8))
    }
}

/// Reads an .npy input tensor, checking it against the model's input shape.
func loadInput(path: String, into network: Network, model: Model) throws {
    let tensor: (shape: [Int], data: [Float])
    do { tensor = try NPY.read(path: path) } catch { throw UserError.badInput(error) }
    let expected = network.graph.values[network.graph.input].shape
    guard tensor.shape == expected.dims else {
        throw UserError("The input \(path) has shape \(Shape(tensor.shape)), but the model \(model.url.lastPathComponent) takes \(expected).")
    }
    _ = tensor.data.withUnsafeBufferPointer { network.input.update(fromContentsOf: $0) }
}

/// Layer names as file names: every character outside `A-Za-z0-9._-` becomes `_`.
enum LayerFileName {
    static func sanitized(_ name: String) -> String {
        String(String.UnicodeScalarView(name.unicodeScalars.map { s -> Unicode.Scalar in
            switch s {
            case "A"..."Z", "a"..."z", "0"..."9", ".", "_", "-": return s
            default: return "_"
            }
        }))
    }
}
