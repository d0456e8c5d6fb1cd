import Engine

/// Builds a graph with one input named `inputName`; `body` adds nodes and returns the value that
/// becomes the graph's only output.
public func makeGraph(input shape: Shape, inputName: String = "x",
                      _ body: (inout Graph, _ input: Int) throws -> Int) throws -> Graph {
    var graph = Graph()
    let x = try graph.addInput(name: inputName, shape: shape)
    graph.outputs = [try body(&graph, x)]
    return graph
}

/// A graph of one node `name` applying `op` to the input.
public func singleNodeGraph(_ op: Operation, input shape: Shape, name: String = "y") throws -> Graph {
    try makeGraph(input: shape) { g, x in try g.addNode(name: name, op: op, inputs: [x]) }
}

/// Runs a graph of one node applying `op` to an input of shape `shape` holding `input`, with 1 and
/// with 2 threads; the node's output is `output` (and `value("y", run:)`).
public func runSingleNode(_ op: Operation, input shape: Shape, _ input: [Float]) throws -> NetworkRun {
    runNetwork(try singleNodeGraph(op, input: shape), input: input)
}

/// What one forward pass left in a network's buffers, for each of several thread counts.
public struct NetworkRun: Sendable {
    /// The graph as planned (after any folding the caller did).
    public let graph: Graph
    public let threadCounts: [Int]
    /// Per thread count: the contents of every value that is not a constant, by name.
    public let values: [[String: [Float]]]
    /// Per thread count: the max-pool switches of every max-pool node, by node name.
    public let switches: [[String: [Int32]]]

    /// The graph's first output after the run with the first thread count.
    public var output: [Float] { value(graph.values[graph.outputs[0]].name) }

    /// The contents of value `name` after run `run` (an index into `threadCounts`).
    public func value(_ name: String, run: Int = 0) -> [Float] {
        guard let v = values[run][name] else { preconditionFailure("no value named '\(name)'") }
        return v
    }

    /// The largest absolute difference of any value or switch between the runs (0 when identical;
    /// infinity when switches differ).
    public var maxThreadDifference: Float {
        var worst: Float = 0
        for r in values.indices.dropFirst() {
            for (name, v) in values[0] { worst = max(worst, maxAbsoluteError(values[r][name] ?? [], v)) }
            if switches[r] != switches[0] { return .infinity }
        }
        return worst
    }
}

/// Plans `graph` once for each thread count, writes `input`, fills every node's output with NaN,
/// runs `forward()` once, materializes every layer and collects every value's contents.
public func runNetwork(_ graph: Graph, input: [Float], threads: [Int] = [1, 2]) -> NetworkRun {
    var values: [[String: [Float]]] = []
    var switches: [[String: [Int32]]] = []
    for t in threads {
        let network = Network(graph: graph, threads: t)
        precondition(network.input.count == input.count,
                     "input has \(input.count) values, the graph wants \(network.input.count)")
        _ = network.input.update(fromContentsOf: input)
        // Poison every node output, so an element a kernel forgets to write (or accumulates into)
        // shows up as NaN instead of passing as the arena's initial zero.
        for (i, v) in graph.values.enumerated() where v.producer != nil {
            network.buffer(i).update(repeating: .nan)
        }
        network.forward()
        network.materializeAll()
        var byName: [String: [Float]] = [:]
        for (i, v) in graph.values.enumerated() where v.constant == nil {
            byName[v.name] = Array(network.buffer(i))
        }
        var bySwitch: [String: [Int32]] = [:]
        for (i, node) in graph.nodes.enumerated() {
            if let s = network.switches(ofNode: i) { bySwitch[node.name] = Array(s) }
        }
        values.append(byName)
        switches.append(bySwitch)
    }
    return NetworkRun(graph: graph, threadCounts: threads, values: values, switches: switches)
}
