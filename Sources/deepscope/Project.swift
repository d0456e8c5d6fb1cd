import ArgumentParser
import Engine
import Foundation
import ModelIO

struct Project: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Projects a unit's activation back onto the input (deconv, guided backprop or gradient).",
        discussion: """
            The seed is a 1 at (UNIT, Y, X) with --at, else the unit's own forward activation map.
            The result is the input-shaped NCHW float32 gradient of the chosen mode.
            """)

    @OptionGroup var options: ModelOptions

    @Option(name: .long, help: "Input tensor: NumPy .npy, float32, the model's input shape (NCHW).")
    var input: String

    @Option(name: .long, help: "The unit's layer (an ONNX node output name; `inspect` lists them).")
    var layer: String

    @Option(name: .long, help: "The unit's channel.")
    var unit: Int

    @Option(name: .long, help: "Seed position Y,X in the layer's map (default: the whole activation map).")
    var at: String?

    @Option(name: .long, help: "deconv, guided or gradient.")
    var mode: String

    @Option(name: .long, help: "Output .npy (NCHW float32, the input's shape).")
    var out: String

    func run() throws {
        guard let projectionMode = ProjectionMode(rawValue: mode) else {
            throw UserError("--mode must be deconv, guided or gradient, not '\(mode)'.")
        }
        let position = try at.map(Self.parsePosition)
        let (model, network) = try options.load()
        let value = try LayerName.resolve(layer, in: network.graph)
        let projector = Projector(network: network)
        do {
            try projector.validate(value: value, channel: unit,
                                   at: network.graph.values[value].shape.rank == 2 ? nil : position)
        } catch { throw UserError(String(describing: error)) }
        try loadInput(path: input, into: network, model: model)
        network.forward()
        let result = try projector.project(value: value, channel: unit, at: position, mode: projectionMode)
        let shape = network.graph.values[network.graph.input].shape
        do {
            try NPY.write(path: out, shape: shape.dims, data: UnsafeBufferPointer(result))
        } catch {
            throw UserError(String(describing: error), status: 1)
        }
    }

    static func parsePosition(_ text: String) throws -> (y: Int, x: Int) {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2, let y = Int(parts[0].trimmingCharacters(in: .whitespaces)),
              let x = Int(parts[1].trimmingCharacters(in: .whitespaces)) else {
            throw UserError("--at takes Y,X (two integers separated by a comma), not '\(text)'.")
        }
        return (y, x)
    }
}

/// Layer names as users type them.
enum LayerName {
    /// The value of layer `name`, or a sentence saying what exists instead.
    static func resolve(_ name: String, in graph: Graph) throws -> Int {
        if let v = graph.value(named: name), graph.values[v].producer != nil { return v }
        if let merged = graph.nodes.first(where: { $0.folded.contains(name) }) {
            throw UserError("Layer '\(name)' is folded into '\(merged.name)' (its BatchNormalization); use '\(merged.name)'.")
        }
        throw UserError("The model has no layer named '\(name)'; `deepscope inspect` lists the \(graph.nodes.count) layers.")
    }
}
