import ArgumentParser
import Engine
import Foundation
import ModelIO

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Lists the model's layers: names, ops, output shapes, multiply-adds and parameters.")

    @OptionGroup var options: ModelOptions

    @Flag(name: .long, help: "One JSON object on one line.")
    var json = false

    func run() throws {
        let (model, network) = try options.load()
        let graph = network.graph
        let costs = graph.nodes.map { LayerCost(node: $0, graph: graph) }
        let totalMACs = costs.reduce(0) { $0 + $1.macs }
        let totalParams = costs.reduce(0) { $0 + $1.parameters }
        let inputShape = graph.values[graph.input].shape
        if json {
            let layers: [[String: Any]] = zip(graph.nodes, costs).map { node, cost in
                var entry: [String: Any] = [
                    "name": node.name, "op": node.op.kindName,
                    "shape": graph.values[node.output].shape.dims,
                    "inputs": node.inputs.map { graph.values[$0].name },
                    "macs": cost.macs, "parameters": cost.parameters,
                ]
                if !node.folded.isEmpty { entry["folded"] = node.folded }
                return entry
            }
            let object: [String: Any] = [
                "model": model.url.path,
                "input": ["name": graph.values[graph.input].name, "shape": inputShape.dims],
                "outputs": graph.outputs.map { graph.values[$0].name },
                "layers": layers, "macs": totalMACs, "parameters": totalParams,
                "arena_bytes": network.arenaBytes, "labels": model.labels?.count ?? 0,
            ]
            print(try JSONLine.encode(object))
            return
        }
        print("\(model.url.path)")
        print("input \(graph.values[graph.input].name) \(inputShape), \(graph.nodes.count) layers, " +
              "\(model.labels.map { "\($0.count) labels" } ?? "no labels")")
        let nameWidth = min(40, graph.nodes.map(\.name.count).max() ?? 10)
        print("  " + "layer".padding(toLength: nameWidth, withPad: " ", startingAt: 0) +
              "  op                   output shape         MMACs    params")
        for (node, cost) in zip(graph.nodes, costs) {
            let shape = graph.values[node.output].shape.description
            var line = "  " + node.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
            line += "  " + node.op.kindName.padding(toLength: 20, withPad: " ", startingAt: 0)
            line += " " + shape.padding(toLength: 20, withPad: " ", startingAt: 0)
            line += String(format: " %7.2f %9d", Double(cost.macs) / 1e6, cost.parameters)
            if !node.folded.isEmpty { line += "  (folded: \(node.folded.joined(separator: ", ")))" }
            print(line)
        }
        print(String(format: "total: %.3f G multiply-adds, %d parameters, %.1f MB arena",
                     Double(totalMACs) / 1e9, totalParams, Double(network.arenaBytes) / 1e6))
    }
}

/// Multiply-adds and parameter count of one node, for `inspect`.
struct LayerCost {
    var macs: Int
    var parameters: Int

    init(node: Node, graph: Graph) {
        let cost = node.op.cost(output: graph.values[node.output].shape)
        macs = cost.macs
        parameters = cost.parameters
    }
}
