/// What went wrong while building or running a graph. Each case reads as one sentence naming the node.
public enum GraphError: Error, CustomStringConvertible, Equatable {
    case shapeMismatch(node: String, detail: String)
    case unsupported(node: String, detail: String)
    case duplicateName(String)
    case unknownValue(String)

    public var description: String {
        switch self {
        case .shapeMismatch(let node, let detail): return "Node '\(node)': \(detail)."
        case .unsupported(let node, let detail): return "Node '\(node)': \(detail)."
        case .duplicateName(let name): return "The graph has two values named '\(name)'."
        case .unknownValue(let name): return "The graph has no value named '\(name)'."
        }
    }
}

/// A tensor flowing through the graph: the network input, a constant, or a node's output.
public struct Value: Sendable {
    public var name: String
    public var shape: Shape
    /// Row-major data of a constant (an ONNX initializer used as an operand); nil otherwise.
    public var constant: [Float]?
    /// Index of the node producing this value; nil for the input and constants.
    public var producer: Int?
}

/// One operation applied to graph values, producing one value.
public struct Node: Sendable {
    /// The node's name: its output's name, which is also the layer name users see.
    public var name: String
    public var op: Operation
    public var inputs: [Int]
    public var output: Int
    /// Names of source nodes merged into this one (a convolution folded with its BatchNormalization).
    public var folded: [String] = []
}

/// A feed-forward network as a list of nodes in execution order over NCHW float32 values.
///
/// Build it with `addInput`, `addConstant` and `addNode` (which infers and checks shapes), then
/// `optimize()` and hand it to `Network` to plan and run.
public struct Graph: Sendable {
    public private(set) var values: [Value] = []
    public private(set) var nodes: [Node] = []
    public private(set) var input: Int = -1
    public var outputs: [Int] = []
    /// The model's nodes that the constant folder evaluated at load (they are not in `nodes`).
    public var foldedNodes: [FoldedNode] = []
    private var index: [String: Int] = [:]

    public init() {}

    public func value(named name: String) -> Int? { index[name] }
    public func node(producing value: Int) -> Node? { values[value].producer.map { nodes[$0] } }

    @discardableResult
    public mutating func addInput(name: String, shape: Shape) throws -> Int {
        let id = try addValue(Value(name: name, shape: shape, constant: nil, producer: nil))
        input = id
        return id
    }

    @discardableResult
    public mutating func addConstant(name: String, shape: Shape, data: [Float]) throws -> Int {
        precondition(data.count == shape.count, "constant '\(name)' has \(data.count) values for shape \(shape)")
        return try addValue(Value(name: name, shape: shape, constant: data, producer: nil))
    }

    private mutating func addValue(_ v: Value) throws -> Int {
        guard index[v.name] == nil else { throw GraphError.duplicateName(v.name) }
        values.append(v)
        index[v.name] = values.count - 1
        return values.count - 1
    }

    /// Appends a node, inferring its output shape from its inputs. Throws when shapes do not fit.
    @discardableResult
    public mutating func addNode(name: String, op: Operation, inputs: [Int]) throws -> Int {
        let shapes = inputs.map { values[$0].shape }
        let shape = try Graph.inferShape(node: name, op: op, inputs: shapes)
        let id = try addValue(Value(name: name, shape: shape, constant: nil, producer: nodes.count))
        nodes.append(Node(name: name, op: op, inputs: inputs, output: id))
        return id
    }

    /// The shape an operation produces from its input shapes (the op's own rule).
    public static func inferShape(node: String, op: Operation, inputs: [Shape]) throws -> Shape {
        try op.rules.outputShape(ShapeCheck(node: node, kind: op.kindName, inputs: inputs))
    }

    /// NumPy broadcasting of two shapes, or nil when they are incompatible.
    public static func broadcast(_ a: Shape, _ b: Shape) -> Shape? {
        let r = max(a.rank, b.rank)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let da = i < r - a.rank ? 1 : a[i - (r - a.rank)]
            let db = i < r - b.rank ? 1 : b[i - (r - b.rank)]
            guard da == db || da == 1 || db == 1 else { return nil }
            out[i] = max(da, db)
        }
        return Shape(out)
    }

    // MARK: - Optimization

    /// Folds each BatchNormalization into the convolution feeding it, when that convolution's output
    /// feeds nothing else and is not a graph output. The merged node keeps the BatchNormalization's
    /// name (its output is what the pair computes); the convolution's name is kept in `folded`.
    public mutating func foldBatchNorms() {
        var consumers = [Int](repeating: 0, count: values.count)
        for n in nodes { for i in n.inputs { consumers[i] += 1 } }
        for o in outputs { consumers[o] += 1 }
        var removed = Set<Int>()
        for (bi, bn) in nodes.enumerated() {
            guard case .batchNorm(let scale, let shift) = bn.op,
                  let pi = values[bn.inputs[0]].producer, !removed.contains(pi),
                  consumers[bn.inputs[0]] == 1,
                  case .conv(var conv) = nodes[pi].op else { continue }
            let per = conv.inChannelsPerGroup * conv.window.kernelH * conv.window.kernelW
            for o in 0..<conv.outChannels {
                for k in 0..<per { conv.weight[o * per + k] *= scale[o] }
                conv.bias[o] = conv.bias[o] * scale[o] + shift[o]
            }
            nodes[bi].op = .conv(conv)
            nodes[bi].inputs = nodes[pi].inputs
            nodes[bi].folded = nodes[pi].folded + [nodes[pi].name]
            removed.insert(pi)
        }
        guard !removed.isEmpty else { return }
        rebuild(droppingNodes: removed)
    }

    /// Removes nodes (whose outputs must be unused) and renumbers values.
    private mutating func rebuild(droppingNodes dropped: Set<Int>) {
        let deadValues = Set(dropped.map { nodes[$0].output })
        var remap = [Int](repeating: -1, count: values.count)
        var newValues: [Value] = []
        for (i, v) in values.enumerated() where !deadValues.contains(i) {
            remap[i] = newValues.count
            newValues.append(v)
        }
        var newNodes: [Node] = []
        for (i, var n) in nodes.enumerated() where !dropped.contains(i) {
            n.inputs = n.inputs.map { remap[$0] }
            n.output = remap[n.output]
            newValues[n.output].producer = newNodes.count
            newNodes.append(n)
        }
        values = newValues
        nodes = newNodes
        input = remap[input]
        outputs = outputs.map { remap[$0] }
        index = [:]
        for (i, v) in values.enumerated() { index[v.name] = i }
    }
}
