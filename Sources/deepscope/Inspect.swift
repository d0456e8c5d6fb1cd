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
                "folded_at_load": ["count": graph.foldedNodes.count,
                                   "nodes": graph.foldedNodes.map { ["name": $0.name, "op": $0.op] }],
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
        printFolded(graph.foldedNodes)
    }

    /// What the constant folder evaluated at load: the count, then per op its nodes' names.
    private func printFolded(_ folded: [FoldedNode]) {
        guard !folded.isEmpty else {
            print("folded at load: nothing")
            return
        }
        var ops: [String] = []
        var names: [String: [String]] = [:]
        for f in folded {
            if names[f.op] == nil { ops.append(f.op) }
            names[f.op, default: []].append(f.name)
        }
        print("folded at load: \(folded.count) node\(folded.count == 1 ? "" : "s")")
        for op in ops {
            print("  \(op) ×\(names[op]!.count): " + names[op]!.joined(separator: ", "))
        }
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
