import Engine

/// A planned network with a projector over it, for projection tests: write an input, run the
/// forward pass, project units, and evaluate the unit's objective for finite differences.
public final class ProjectionHarness {
    public let graph: Graph
    public let network: Network
    public let projector: Projector
    /// The input of the last `forward(_:)`.
    public private(set) var input: [Float]

    public init(graph: Graph, input: [Float], threads: Int = 1) {
        self.graph = graph
        network = Network(graph: graph, threads: threads)
        projector = Projector(network: network)
        self.input = input
        forward(input)
    }

    /// Writes `input`, runs the forward pass and, unless `materializing` is false, materializes
    /// every layer (the tests read any). Without, fused convolutions' outputs stay unwritten, as
    /// in the frame loop, until the projector materializes what it reads.
    public func forward(_ input: [Float], materializing: Bool = true) {
        precondition(network.input.count == input.count,
                     "input has \(input.count) values, the graph wants \(network.input.count)")
        self.input = input
        _ = network.input.update(fromContentsOf: input)
        network.forward()
        if materializing { network.materializeAll() }
    }

    /// The value named `name` (a precondition failure when there is none).
    public func value(_ name: String) -> Int {
        guard let v = graph.value(named: name) else { preconditionFailure("no value named '\(name)'") }
        return v
    }

    /// The contents of `value` after the last forward pass.
    public func activations(_ value: Int) -> [Float] { Array(network.buffer(value)) }

    /// Every value's contents after the last forward pass, by value index (constants included).
    public func allValues() -> [[Float]] {
        graph.values.indices.map { i in graph.values[i].constant ?? Array(network.buffer(i)) }
    }

    /// The projection of unit (`value`, `channel`) onto the input, copied out.
    public func project(_ value: Int, channel: Int, at position: (y: Int, x: Int)?,
                        mode: ProjectionMode) throws -> [Float] {
        Array(try projector.project(value: value, channel: channel, at: position, mode: mode))
    }

    /// The seed the contract defines for a unit, as a whole tensor of `value`'s shape: a 1 at
    /// (batch 0, channel, y, x) with a position, else the channel's activation map of batch item 0;
    /// for a [N, K] value, 1 (with a position) or the activation at unit `channel`.
    public func seed(_ value: Int, channel: Int, at position: (y: Int, x: Int)?) -> [Float] {
        let shape = graph.values[value].shape
        var seed = [Float](repeating: 0, count: shape.count)
        let act = activations(value)
        if shape.rank == 2 {
            seed[channel] = position == nil ? act[channel] : 1
            return seed
        }
        precondition(shape.rank == 4, "seeds are defined here for [N, K] and NCHW values")
        let (h, w) = (shape[2], shape[3])
        if let p = position {
            seed[(channel * h + p.y) * w + p.x] = 1
        } else {
            for i in 0..<(h * w) { seed[channel * h * w + i] = act[channel * h * w + i] }
        }
        return seed
    }

    /// Σ seed ⊙ activation of `value` after the last forward pass, accumulated in double precision.
    public func objective(_ value: Int, seed: [Float]) -> Double {
        let act = network.buffer(value)
        var s = 0.0
        for i in seed.indices where seed[i] != 0 { s += Double(seed[i]) * Double(act[i]) }
        return s
    }

    /// Every piecewise decision of the last forward pass, as one array: for each Relu and LeakyRelu
    /// input element whether it is positive, for each Clip input element whether it is below, inside
    /// or above the range, and every max-pool switch. Two inputs with equal decisions lie on the same
    /// smooth piece of the network function.
    public func decisions() -> [Int32] {
        var out: [Int32] = []
        for (ni, node) in graph.nodes.enumerated() {
            switch node.op {
            case .relu, .leakyRelu:
                for v in network.buffer(node.inputs[0]) { out.append(v > 0 ? 1 : 0) }
            case .clip(let lo, let hi):
                for v in network.buffer(node.inputs[0]) { out.append(v <= lo ? 0 : (v >= hi ? 2 : 1)) }
            case .maxPool:
                out.append(contentsOf: network.switches(ofNode: ni)!)
            default:
                break
            }
        }
        return out
    }

    /// Central finite differences of `objective(value, seed)` with respect to the input elements at
    /// `positions`, with step `step`: (f(x + h) − f(x − h)) / 2h. A position where the step changes
    /// any decision (a rectifier or a max-pool switch flips) is nil: the function has a kink there.
    /// The forward state is restored (the forward pass rerun on the original input) before returning.
    public func finiteDifferences(_ value: Int, seed: [Float], positions: [Int], step: Float) -> [Double?] {
        let base = input
        let reference = decisions()
        var out: [Double?] = []
        for p in positions {
            var x = base
            x[p] = base[p] + step
            forward(x)
            let up = objective(value, seed: seed)
            let upSame = decisions() == reference
            x[p] = base[p] - step
            forward(x)
            let down = objective(value, seed: seed)
            let downSame = decisions() == reference
            // The step actually taken, in float32.
            let span = Double(base[p] + step) - Double(base[p] - step)
            out.append(upSame && downSame ? (up - down) / span : nil)
        }
        forward(base)
        return out
    }
}

/// The part of `graph` that `value` depends on, rebuilt as a graph of its own whose only output is
/// `value`: the same names, constants and operations, nothing after or beside it.
public func subgraph(_ graph: Graph, upTo value: Int) throws -> Graph {
    var needed = Set<Int>()
    var stack = [value]
    while let v = stack.popLast() {
        guard needed.insert(v).inserted, let p = graph.values[v].producer else { continue }
        stack.append(contentsOf: graph.nodes[p].inputs)
    }
    var out = Graph()
    var remap: [Int: Int] = [:]
    for (i, v) in graph.values.enumerated() where needed.contains(i) && v.producer == nil {
        if let data = v.constant {
            remap[i] = try out.addConstant(name: v.name, shape: v.shape, data: data)
        } else {
            remap[i] = try out.addInput(name: v.name, shape: v.shape)
        }
    }
    for node in graph.nodes where needed.contains(node.output) {
        remap[node.output] = try out.addNode(name: node.name, op: node.op, inputs: node.inputs.map { remap[$0]! })
    }
    out.outputs = [remap[value]!]
    return out
}

/// The projection of a unit by a new projector over `network`, copied out while that projector
/// (which owns the returned buffer) is alive.
public func freshProjection(_ network: Network, _ value: Int, channel: Int, at position: (y: Int, x: Int)?,
                            mode: ProjectionMode) throws -> [Float] {
    let projector = Projector(network: network)
    return try withExtendedLifetime(projector) {
        Array(try projector.project(value: value, channel: channel, at: position, mode: mode))
    }
}
