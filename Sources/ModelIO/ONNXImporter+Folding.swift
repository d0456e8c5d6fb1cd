// The ONNX side of constant folding: which operators fold, how their attributes and inputs read
// in opsets 7 to 21, and the call into Engine's `ConstantFolding`. A node folds when every input is
// known at load (an initializer, a Constant or an earlier folded node; for Shape and Size, any
// tensor, since every shape is static here); its outputs become constants and the node is listed
// in `Graph.foldedNodes`.

import Foundation
import Engine

extension ONNXImporter {
    /// Operators the folder evaluates when their inputs are constants.
    static let foldable: Set<String> = Set([
        "ConstantOfShape", "Shape", "Size", "Gather", "Squeeze", "Unsqueeze", "Concat", "Cast", "Range", "Slice",
        "Reshape", "Flatten", "Transpose", "Tile", "Expand", "Split", "Where", "Sum", "Mean",
    ]).union(ConstantFolding.BinaryOperator.allCases.map(\.rawValue))
        .union(ConstantFolding.UnaryOperator.allCases.map(\.rawValue))
        .union(ConstantFolding.Reduction.allCases.map(\.rawValue))

    /// Whether `node` folds: a foldable operator whose inputs are all known now.
    mutating func folds(_ node: Onnx_NodeProto) throws -> Bool {
        guard Self.foldable.contains(node.opType), !node.input.isEmpty else { return false }
        if node.opType == "Shape" || node.opType == "Size" { return staticShape(node.input[0]) != nil }
        for name in node.input where !name.isEmpty {
            guard try constant(name) != nil else { return false }
        }
        return true
    }

    /// The shape of the tensor `name` as the model declares it (the NHWC graph input keeps its
    /// layout), or nil when there is no such tensor.
    mutating func staticShape(_ name: String) -> [Int]? {
        if name == inputName { return declaredInputDims }
        if let id = graph.value(named: name) { return shape(id).dims }
        return (try? constant(name))??.dims
    }

    /// Evaluates `node` and stores its outputs as constants.
    mutating func fold(_ node: Onnx_NodeProto, outputs: [String]) throws {
        let a = Attributes(node.attribute)
        var results: [HostTensor]
        do {
            results = try evaluate(node, a)
        } catch let e as FoldError {
            throw NodeFailure(e.reason)
        }
        for r in results { try ConstantFolding.checkSize(r.dims) }
        if results.count < outputs.count {
            throw NodeFailure("it has \(outputs.count) outputs, but \(results.count) values were computed")
        }
        for (name, value) in zip(outputs, results) where !name.isEmpty {
            constants[name] = value
            graph.foldedNodes.append(FoldedNode(name: name, op: node.opType))
        }
    }

    /// Input `i` as a constant (it must be present).
    private mutating func known(_ node: Onnx_NodeProto, _ i: Int, _ role: String) throws -> HostTensor {
        guard let t = try constantInput(node, i, role) else { throw NodeFailure("it lacks its \(role) input") }
        return t
    }

    private mutating func evaluate(_ node: Onnx_NodeProto, _ a: Attributes) throws -> [HostTensor] {
        let op = node.opType
        if let b = ConstantFolding.BinaryOperator(rawValue: op), op != "Max" && op != "Min" || node.input.count == 2 {
            guard node.input.count == 2 else { throw NodeFailure("it has \(node.input.count) inputs, expected 2") }
            if op == "Mod", try a.int("fmod", default: 0) == 0, try !known(node, 0, "A").isInteger {
                throw NodeFailure("fmod 0 on FLOAT inputs is not defined")
            }
            return [try ConstantFolding.binary(b, try known(node, 0, "A"), try known(node, 1, "B"))]
        }
        if let u = ConstantFolding.UnaryOperator(rawValue: op) {
            return [ConstantFolding.unary(u, try known(node, 0, "input"))]
        }
        if let r = ConstantFolding.Reduction(rawValue: op) {
            let data = try known(node, 0, "data")
            var axes = try a.ints("axes")
            if axes == nil, let t = try constantInput(node, 1, "axes") { axes = try t.integers("its axes").map { Int(clamping: $0) } }
            if axes?.isEmpty == true { axes = try a.int("noop_with_empty_axes", default: 0) != 0 ? [] : nil }
            return [try ConstantFolding.reduce(r, data, axes: axes, keepDims: try a.int("keepdims", default: 1) != 0)]
        }
        switch op {
        case "Sum", "Mean", "Max", "Min":
            var inputs: [HostTensor] = []
            for i in node.input.indices { inputs.append(try known(node, i, "input \(i + 1)")) }
            let b: ConstantFolding.BinaryOperator = op == "Max" ? .max : (op == "Min" ? .min : .add)
            return [try ConstantFolding.variadic(b, inputs, mean: op == "Mean")]
        case "ConstantOfShape":
            let dims = try known(node, 0, "shape").integers("its shape input")
            let value = try a.tensor("value").map { try TensorDecoder.decode($0, what: "its value") }
            return [try ConstantFolding.constantOfShape(dims, value: value)]
        case "Shape":
            let dims = staticShape(node.input[0])!
            return [ConstantFolding.shape(of: Shape(dims), start: try a.int("start", default: 0), end: try a.int("end"))]
        case "Size":
            return [HostTensor(dims: [], int64s: [Int64(staticShape(node.input[0])!.reduce(1, *))])]
        case "Gather":
            return [try ConstantFolding.gather(try known(node, 0, "data"), indices: try known(node, 1, "indices"),
                                               axis: try a.int("axis", default: 0))]
        case "Concat":
            var inputs: [HostTensor] = []
            for i in node.input.indices where !node.input[i].isEmpty { inputs.append(try known(node, i, "input \(i + 1)")) }
            guard let axis = try a.int("axis") else { throw NodeFailure("attribute 'axis' is missing") }
            return [try ConstantFolding.concat(inputs, axis: axis)]
        case "Cast":
            guard let to = try a.int("to") else { throw NodeFailure("attribute 'to' is missing") }
            let t = try known(node, 0, "input")
            switch to {
            case 1, 10, 11, 16: return [ConstantFolding.cast(t, toInteger: false)]
            case 9: return [ConstantFolding.cast(t, toInteger: true, boolean: true)]
            case 2, 3, 4, 5, 6, 7, 12, 13: return [ConstantFolding.cast(t, toInteger: true)]
            default: throw NodeFailure("it casts to \(TensorDecoder.typeName(Int32(clamping: to))), which DeepScope does not evaluate")
            }
        case "Range":
            return [try ConstantFolding.range(start: try known(node, 0, "start"), limit: try known(node, 1, "limit"),
                                              delta: try known(node, 2, "delta"))]
        case "Where":
            return [try ConstantFolding.where(try known(node, 0, "condition"), try known(node, 1, "X"), try known(node, 2, "Y"))]
        case "Expand":
            return [try ConstantFolding.expand(try known(node, 0, "input"), shape: try known(node, 1, "shape").integers("its shape input"))]
        case "Reshape", "Flatten", "Squeeze", "Unsqueeze":
            let t = try known(node, 0, "data")
            return [t.reshaped(try reshapedDims(node, a, input: t.dims))]
        case "Transpose":
            let t = try known(node, 0, "data")
            return [try ConstantFolding.transpose(t, perm: try permutation(a, rank: t.dims.count))]
        case "Slice":
            let t = try known(node, 0, "data")
            return [ConstantFolding.slice(t, try slicing(node, a, input: t.dims))]
        case "Split":
            let t = try known(node, 0, "input")
            return try splits(node, a, input: t.dims).map { ConstantFolding.slice(t, $0) }
        case "Tile":
            let t = try known(node, 0, "input")
            return [try ConstantFolding.tile(t, repeats: try repeats(node, rank: t.dims.count))]
        default:
            throw NodeFailure("op '\(op)' is not evaluated at load")
        }
    }
}
