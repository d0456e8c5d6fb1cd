import Foundation
import Engine

/// Turns a parsed ONNX model into an `Engine.Graph`, checking every attribute, tensor and shape on
/// the way so that a damaged file ends in a `ModelError`, never in a crash or an absurd allocation.
struct ONNXImporter {
    /// The file, for messages.
    let path: String
    let model: Onnx_ModelProto
    /// The version of the default ("ai.onnx") operator set.
    let opset: Int

    // Written by this file and by ONNXImporter+Operators.swift.
    var graph = Graph()
    /// The network input's name and NCHW dimensions.
    private(set) var inputName = ""
    private(set) var inputDims: [Int] = []
    /// The graph input's dimensions as the model declares them (NHWC for a tf2onnx graph).
    private(set) var declaredInputDims: [Int] = []
    /// Whether the graph input is NHWC and every reader transposes it to NCHW first: the engine's
    /// input is then NCHW and those Transposes are identities.
    private(set) var inputIsNHWC = false

    /// Initializers not yet decoded, by name.
    var initializers: [String: Onnx_TensorProto] = [:]
    /// Decoded initializers and Constant node values, by name.
    var constants: [String: ConstantTensor] = [:]
    /// Whether nodes whose inputs are all known at load are evaluated then (the constant folder).
    var foldConstants = true
    /// Names that exist in the ONNX graph but that DeepScope does not compute, and why.
    var unavailable: [String: String] = [:]

    init(path: String, model: Onnx_ModelProto) {
        self.path = path
        self.model = model
        var version: Int64? = nil
        for set in model.opsetImport where set.domain.isEmpty || set.domain == "ai.onnx" {
            version = max(version ?? set.version, set.version)
        }
        // A model without an opset import predates them: operator set 1.
        opset = Int(clamping: version ?? 1)
    }

    /// The model's producer and opset, e.g. "deepscope-convert 1.0 / opset 13".
    var producer: String {
        let name = [model.producerName, model.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        return "\(name.isEmpty ? "unknown producer" : name) / opset \(opset)"
    }

    // MARK: - The graph input

    /// Finds the network input (the first graph input that is not an initializer) and returns its
    /// NCHW dimensions as declared; `nil` entries are symbolic or unknown.
    mutating func declaredInput() throws -> (name: String, dims: [Int?]) {
        let g = model.graph
        for t in g.initializer where initializers[t.name] == nil { initializers[t.name] = t }
        // In IR versions before 4 every weight is also a graph input: the image is the input that
        // no initializer backs. With several such inputs, the first 4-D FLOAT one.
        let free = g.input.filter { initializers[$0.name] == nil }
        guard !free.isEmpty else {
            throw ModelError.invalidModel(path: path, reason: "the graph has no input that is not an initializer")
        }
        func isImage(_ i: Onnx_ValueInfoProto) -> Bool {
            guard case .tensorType(let t)? = i.type.value else { return false }
            return t.elemType == Int32(Onnx_TensorProto.DataType.float.rawValue) && t.hasShape && t.shape.dim.count == 4
        }
        guard let input = free.first(where: isImage) ?? (free.count == 1 ? free[0] : nil) else {
            let list = free.map { "'\($0.name)' (\(Self.describeType($0)))" }.joined(separator: ", ")
            throw ModelError.invalidModel(path: path, reason: "the graph has no 4-D FLOAT image input; its inputs are \(list)")
        }
        for other in free where other.name != input.name {
            unavailable[other.name] = "a second graph input, but DeepScope feeds only '\(input.name)'"
        }
        let what = "the graph input '\(input.name)'"
        guard !input.name.isEmpty else { throw ModelError.invalidModel(path: path, reason: "the graph input has no name") }
        guard case .tensorType(let tensor)? = input.type.value else {
            throw ModelError.invalidModel(path: path, reason: "\(what) is not a tensor")
        }
        guard tensor.elemType == Int32(Onnx_TensorProto.DataType.float.rawValue) else {
            throw ModelError.invalidModel(path: path, reason: "\(what) has element type \(TensorDecoder.typeName(tensor.elemType)); DeepScope needs a FLOAT image tensor")
        }
        guard tensor.hasShape, tensor.shape.dim.count == 4 else {
            let rank = tensor.hasShape ? "rank \(tensor.shape.dim.count)" : "no declared shape"
            throw ModelError.invalidModel(path: path, reason: "\(what) has \(rank); DeepScope needs an NCHW image input of rank 4")
        }
        var dims: [Int?] = tensor.shape.dim.map { d in
            if case .dimValue(let v)? = d.value, v > 0, v <= ModelLimits.maxElements { return Int(v) }
            return nil
        }
        // tf2onnx: an NHWC input whose every reader is a Transpose to NCHW.
        let readers = g.node.filter { $0.input.contains(input.name) }
        if let c = dims[3], c <= 4, dims[1].map({ $0 > 4 }) ?? true, !readers.isEmpty,
           readers.allSatisfy({ n in
               n.opType == "Transpose" && n.input.first == input.name
                   && (try? Attributes(n.attribute).ints("perm")) == [0, 3, 1, 2]
           }) {
            inputIsNHWC = true
            dims = [dims[0], dims[3], dims[1], dims[2]]
        }
        return (input.name, dims)
    }

    /// "FLOAT [1, 3, 224, 224]", "INT64 [1, ?]", "not a tensor": for messages.
    static func describeType(_ info: Onnx_ValueInfoProto) -> String {
        guard case .tensorType(let t)? = info.type.value else { return "not a tensor" }
        let type = TensorDecoder.typeName(t.elemType)
        guard t.hasShape else { return type }
        let dims = t.shape.dim.map { d -> String in
            if case .dimValue(let v)? = d.value { return String(v) }
            return "?"
        }
        return "\(type) [\(dims.joined(separator: ", "))]"
    }

    /// Adds the input with concrete dimensions: an unknown batch becomes 1, unknown height and width
    /// come from `size` (the sidecar's input_size).
    mutating func addInput(name: String, declared: [Int?], size: [Int]?) throws {
        var dims = [Int](repeating: 0, count: 4)
        dims[0] = declared[0] ?? 1
        guard let c = declared[1] else {
            throw ModelError.invalidModel(path: path, reason: "the graph input '\(name)' has an unknown channel count")
        }
        dims[1] = c
        for i in 2..<4 {
            guard let d = declared[i] ?? size?[i - 2] else {
                throw ModelError.invalidModel(path: path, reason: "the graph input '\(name)' has a symbolic height or width; give \"input_size\" in the sidecar")
            }
            dims[i] = d
        }
        guard checkedCount(dims) != nil else {
            throw ModelError.invalidModel(path: path, reason: "the graph input '\(name)' of shape \(Shape(dims)) exceeds \(ModelLimits.maxElements) elements")
        }
        do { try graph.addInput(name: name, shape: Shape(dims)) } catch {
            throw ModelError.invalidModel(path: path, reason: "\(error)")
        }
        inputName = name
        inputDims = dims
        declaredInputDims = inputIsNHWC ? [dims[0], dims[2], dims[3], dims[1]] : dims
    }

    // MARK: - Nodes

    mutating func importNodes() throws {
        for (i, node) in model.graph.node.enumerated() {
            let label = node.output.first.flatMap { $0.isEmpty ? nil : $0 } ?? (node.name.isEmpty ? "#\(i)" : node.name)
            let isDefault = node.domain.isEmpty || node.domain == "ai.onnx"
            let opName = isDefault ? node.opType : "\(node.domain).\(node.opType)"
            guard isDefault, Self.supported.contains(node.opType) || Self.foldable.contains(node.opType) else {
                throw ModelError.unsupportedOp(path: path, node: label, op: opName, opset: opset)
            }
            do {
                guard let out = node.output.first, !out.isEmpty else { throw NodeFailure("the node has no output name") }
                if foldConstants, try folds(node) {
                    try fold(node, outputs: node.output)
                    continue
                }
                // An operator the folder evaluates on constants but the engine does not run.
                guard Self.supported.contains(node.opType) else { throw ModelError.unsupportedOp(path: path, node: label, op: opName, opset: opset) }
                try importNode(node, output: out)
                for extra in node.output.dropFirst() where !extra.isEmpty && node.opType != "Split" {
                    unavailable[extra] = "an extra output of node '\(out)' (\(node.opType)), which DeepScope does not compute"
                }
            } catch let failure as NodeFailure {
                throw ModelError.invalidNode(path: path, node: label, op: opName, reason: "\(failure.reason) (opset \(opset))")
            } catch let error as GraphError {
                var reason: String
                switch error {
                case .shapeMismatch(_, let detail), .unsupported(_, let detail): reason = detail
                case .duplicateName(let name): reason = "its output '\(name)' has the name of another value"
                case .unknownValue(let name): reason = "it reads '\(name)', which the graph does not have"
                }
                while reason.hasSuffix(".") { reason.removeLast() }
                throw ModelError.invalidNode(path: path, node: label, op: opName, reason: "\(reason) (opset \(opset))")
            }
        }
    }

    /// Marks the ONNX graph outputs as the graph's outputs.
    mutating func setOutputs() throws {
        guard !model.graph.output.isEmpty else {
            throw ModelError.invalidModel(path: path, reason: "the graph declares no outputs")
        }
        var ids: [Int] = []
        for o in model.graph.output {
            guard let id = graph.value(named: o.name), graph.values[id].producer != nil else {
                let why = unavailable[o.name].map { "is \($0)" } ?? "is not computed by any node"
                throw ModelError.invalidModel(path: path, reason: "the graph output '\(o.name)' \(why)")
            }
            if !ids.contains(id) { ids.append(id) }
        }
        graph.outputs = ids
    }

    static let supported: Set<String> = [
        "Conv", "BatchNormalization", "Relu", "Clip", "LeakyRelu", "Sigmoid", "Tanh", "MaxPool", "AveragePool",
        "GlobalAveragePool", "LRN", "Add", "Mul", "Concat", "Flatten", "Reshape", "Gemm", "MatMul",
        "Dropout", "Identity", "Softmax", "Pad", "Constant",
        "Sub", "Div", "Sum", "Max", "Min", "Elu", "Selu", "HardSigmoid", "HardSwish", "Softplus", "Erf", "PRelu", "Pow", "Sqrt", "Gelu",
        "LogSoftmax", "ReduceMean", "ReduceSum", "ReduceMax", "GlobalMaxPool", "InstanceNormalization", "LayerNormalization", "ConvTranspose", "Resize", "Upsample",
        "Transpose", "Squeeze", "Unsqueeze", "Slice", "Split", "Tile",
    ]

    // MARK: - Values

    /// The decoded constant named `name` (an initializer or a Constant node's output), or nil when
    /// `name` is not a constant.
    mutating func constant(_ name: String) throws -> ConstantTensor? {
        if let c = constants[name] { return c }
        guard graph.value(named: name) == nil, let proto = initializers[name] else { return nil }
        let c = try TensorDecoder.decode(proto, what: "initializer '\(name)'")
        constants[name] = c
        initializers[name] = nil
        return c
    }

    /// The constant input `index` of `node`, or nil when the input is absent (missing or an empty
    /// name). Throws when present but computed at run time.
    mutating func constantInput(_ node: Onnx_NodeProto, _ index: Int, _ role: String) throws -> ConstantTensor? {
        guard index < node.input.count, !node.input[index].isEmpty else { return nil }
        let name = node.input[index]
        if let c = try constant(name) { return c }
        if graph.value(named: name) != nil {
            throw NodeFailure("its \(role) '\(name)' must be an initializer or a Constant, but it is computed")
        }
        throw missing(name)
    }

    func missing(_ name: String) -> NodeFailure {
        if let why = unavailable[name] { return NodeFailure("it reads '\(name)', \(why)") }
        return NodeFailure("it reads '\(name)', which is not the graph input, an initializer or an earlier node's output")
    }

    /// The graph value for input `index` of `node`. Constants are added to the graph only where
    /// `allowConstant` (elementwise operands).
    mutating func value(_ node: Onnx_NodeProto, _ index: Int, allowConstant: Bool = false) throws -> Int {
        guard index < node.input.count, !node.input[index].isEmpty else {
            throw NodeFailure("it lacks input \(index + 1)")
        }
        let name = node.input[index]
        if let id = graph.value(named: name) { return id }
        if let c = try constant(name) {
            guard allowConstant else {
                throw NodeFailure("its input '\(name)' is a constant, but DeepScope needs a computed tensor there")
            }
            guard c.count > 0 else { throw NodeFailure("its constant input '\(name)' is empty") }
            return try graph.addConstant(name: name, shape: Shape(c.dims), data: try c.floatValues("constant input '\(name)'"))
        }
        throw missing(name)
    }

    func shape(_ id: Int) -> Shape { graph.values[id].shape }

    /// Adds a node and checks the size of what it produces.
    @discardableResult
    mutating func add(_ name: String, _ op: Engine.Operation, _ inputs: [Int]) throws -> Int {
        let id = try graph.addNode(name: name, op: op, inputs: inputs)
        let s = shape(id)
        guard s.rank <= ModelLimits.maxRank, checkedCount(s.dims) != nil else {
            throw NodeFailure("its output \(s) exceeds \(ModelLimits.maxElements) elements")
        }
        return id
    }

    func normalizeAxis(_ axis: Int, rank: Int, _ what: String = "axis") throws -> Int {
        guard axis >= -rank && axis < rank else {
            throw NodeFailure("\(what) \(axis) is outside the input's rank \(rank)")
        }
        return axis < 0 ? axis + rank : axis
    }

    func inRange(_ values: [Int], _ name: String, min lo: Int, count: Int? = nil) throws -> [Int] {
        if let count, values.count != count {
            throw NodeFailure("attribute '\(name)' has \(values.count) values, expected \(count)")
        }
        guard values.allSatisfy({ $0 >= lo && $0 <= ModelLimits.maxWindow }) else {
            throw NodeFailure("attribute '\(name)' \(values) must hold values from \(lo) to \(ModelLimits.maxWindow)")
        }
        return values
    }
}
