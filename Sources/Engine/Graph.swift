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

    /// The shape an operation produces from its input shapes.
    public static func inferShape(node: String, op: Operation, inputs: [Shape]) throws -> Shape {
        func fail(_ s: String) -> GraphError { .shapeMismatch(node: node, detail: s) }
        func need(_ n: Int) throws {
            guard inputs.count == n else { throw fail("\(op.kindName) takes \(n) input(s), got \(inputs.count)") }
        }
        func need4D() throws -> (n: Int, c: Int, h: Int, w: Int) {
            guard let s = inputs.first, s.rank == 4 else {
                throw fail("\(op.kindName) needs an NCHW input, got \(inputs.first?.description ?? "none")")
            }
            return (s[0], s[1], s[2], s[3])
        }
        switch op {
        case .conv(let c):
            try need(1)
            let x = try need4D()
            guard x.c == c.inChannelsPerGroup * c.groups else {
                throw fail("Conv expects \(c.inChannelsPerGroup * c.groups) input channels (\(c.groups) group(s) of \(c.inChannelsPerGroup)), got \(x.c)")
            }
            guard c.outChannels % c.groups == 0 else { throw fail("Conv output channels \(c.outChannels) not divisible by group count \(c.groups)") }
            guard c.weight.count == c.outChannels * c.inChannelsPerGroup * c.window.kernelH * c.window.kernelW,
                  c.bias.count == c.outChannels else { throw fail("Conv weight or bias size does not match its shape") }
            guard let o = c.window.outputSize(h: x.h, w: x.w) else {
                throw fail("Conv window \(c.window.kernelH)×\(c.window.kernelW) does not fit input \(x.h)×\(x.w)")
            }
            return Shape([x.n, c.outChannels, o.h, o.w])
        case .batchNorm(let scale, let shift):
            try need(1)
            guard inputs[0].rank >= 2, inputs[0][1] == scale.count, shift.count == scale.count else {
                throw fail("BatchNormalization has \(scale.count) channels, input is \(inputs[0])")
            }
            return inputs[0]
        case .relu, .clip, .leakyRelu, .sigmoid, .identity:
            try need(1)
            return inputs[0]
        case .softmax(let axis):
            try need(1)
            guard axis >= 0 && axis < inputs[0].rank else { throw fail("Softmax axis \(axis) outside rank \(inputs[0].rank)") }
            return inputs[0]
        case .maxPool(let w), .averagePool(let w, _):
            try need(1)
            let x = try need4D()
            guard let o = w.outputSize(h: x.h, w: x.w) else {
                throw fail("pooling window \(w.kernelH)×\(w.kernelW) does not fit input \(x.h)×\(x.w)")
            }
            guard w.padTop < w.kernelH, w.padBottom < w.kernelH, w.padLeft < w.kernelW, w.padRight < w.kernelW else {
                throw fail("pooling pads must be smaller than the window")
            }
            return Shape([x.n, x.c, o.h, o.w])
        case .globalAveragePool:
            try need(1)
            let x = try need4D()
            return Shape([x.n, x.c, 1, 1])
        case .lrn(let p):
            try need(1)
            _ = try need4D()
            guard p.size >= 1 else { throw fail("LRN size must be at least 1") }
            return inputs[0]
        case .add, .mul:
            try need(2)
            guard let s = broadcast(inputs[0], inputs[1]) else {
                throw fail("cannot broadcast \(inputs[0]) with \(inputs[1])")
            }
            return s
        case .concat(let axis):
            guard let first = inputs.first else { throw fail("Concat needs inputs") }
            guard axis >= 0 && axis < first.rank else { throw fail("Concat axis \(axis) outside rank \(first.rank)") }
            var dims = first.dims
            dims[axis] = 0
            for s in inputs {
                guard s.rank == first.rank, (0..<s.rank).allSatisfy({ $0 == axis || s[$0] == first[$0] }) else {
                    throw fail("Concat inputs \(inputs.map(\.description).joined(separator: ", ")) differ outside axis \(axis)")
                }
                dims[axis] += s[axis]
            }
            return Shape(dims)
        case .reshape(let target):
            try need(1)
            guard target.count == inputs[0].count else {
                throw fail("cannot reshape \(inputs[0]) (\(inputs[0].count) values) to \(target)")
            }
            return target
        case .dense(let d):
            try need(1)
            let s = inputs[0]
            guard s.rank >= 1 else { throw fail("Gemm needs a matrix input") }
            let batch = s.rank == 1 ? 1 : s[0]
            guard s.count == batch * d.inFeatures else {
                throw fail("Gemm expects \(d.inFeatures) input features, input is \(s)")
            }
            guard d.weight.count == d.inFeatures * d.outFeatures, d.bias.count == d.outFeatures else {
                throw fail("Gemm weight or bias size does not match \(d.outFeatures)×\(d.inFeatures)")
            }
            return Shape([batch, d.outFeatures])
        case .pad(let b, let e, _):
            try need(1)
            let s = inputs[0]
            guard b.count == s.rank, e.count == s.rank else { throw fail("Pad has \(b.count) pads for rank \(s.rank)") }
            guard b.allSatisfy({ $0 >= 0 }), e.allSatisfy({ $0 >= 0 }) else {
                throw fail("negative pads (cropping) are not supported")
            }
            return Shape((0..<s.rank).map { s[$0] + b[$0] + e[$0] })
        }
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
