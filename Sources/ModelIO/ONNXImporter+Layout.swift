// The shape and layout operators: Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Slice, Split
// and Tile. Their attributes and inputs are read once here, in the forms of opsets 7 to 21 (axes,
// sizes and starts as attributes before opset 10/13, as inputs after), for both uses: a computed
// tensor becomes an engine node, a constant one is folded (ONNXImporter+Folding.swift).

import Foundation
import Engine

extension ONNXImporter {
    // MARK: - Reading the operators' forms

    /// Integers from attribute `name`, or else from constant input `index` (the later opsets' form).
    mutating func integerList(_ node: Onnx_NodeProto, _ a: Attributes, attribute name: String, input index: Int) throws -> [Int]? {
        if let list = try a.ints(name) { return list }
        guard let t = try constantInput(node, index, name) else { return nil }
        guard t.dims.count <= 1 else { throw NodeFailure("its \(name) input has shape \(t.shapeDescription); it must be 1-D") }
        return try t.integers("its \(name) input").map { Int(clamping: $0) }
    }

    /// The output dimensions of Reshape, Flatten, Squeeze or Unsqueeze on an input of `dims`.
    mutating func reshapedDims(_ node: Onnx_NodeProto, _ a: Attributes, input dims: [Int]) throws -> [Int] {
        do {
            switch node.opType {
            case "Flatten":
                let axis = try a.int("axis", default: 1)
                guard axis >= -dims.count && axis <= dims.count else {
                    throw NodeFailure("axis \(axis) is outside the input's rank \(dims.count)")
                }
                let k = axis < 0 ? axis + dims.count : axis
                let outer = dims[..<k].reduce(1, *)
                return [outer, dims.reduce(1, *) / max(outer, 1)]
            case "Squeeze":
                return try ConstantFolding.squeezed(dims, axes: try integerList(node, a, attribute: "axes", input: 1))
            case "Unsqueeze":
                guard let axes = try integerList(node, a, attribute: "axes", input: 1) else { throw NodeFailure("it has no axes") }
                return try ConstantFolding.unsqueezed(dims, axes: axes)
            default:
                return try reshapeTarget(node, a, input: dims)
            }
        } catch let e as FoldError {
            throw NodeFailure(e.reason)
        }
    }

    /// Reshape's target: the shape input (or, before opset 5, attribute), with 0 copying the
    /// input's dimension (unless `allowzero`) and one -1 inferred.
    private mutating func reshapeTarget(_ node: Onnx_NodeProto, _ a: Attributes, input: [Int]) throws -> [Int] {
        let count = input.reduce(1, *)
        let requested: [Int64]
        if let t = try constantInput(node, 1, "shape") {
            guard t.dims.count <= 1 else { throw NodeFailure("its shape input has shape \(t.shapeDescription); it must be 1-D") }
            requested = try t.integers("its shape input")
        } else if let list = try a.ints("shape") {
            requested = list.map { Int64($0) }
        } else {
            throw NodeFailure("it has no target shape")
        }
        guard requested.count <= ModelLimits.maxRank else { throw NodeFailure("the target shape has rank \(requested.count)") }
        let allowZero = try a.int("allowzero", default: 0) != 0
        var dims: [Int] = []
        var inferred: Int? = nil
        for (i, r) in requested.enumerated() {
            if r == 0 && !allowZero {
                guard i < input.count else { throw NodeFailure("the target shape copies dimension \(i), which the input \(Shape(input)) lacks") }
                dims.append(input[i])
            } else if r == -1 {
                guard inferred == nil else { throw NodeFailure("the target shape has more than one -1") }
                inferred = i
                dims.append(1)
            } else if r >= 0 && r <= ModelLimits.maxElements {
                dims.append(Int(r))
            } else {
                throw NodeFailure("the target shape holds \(r)")
            }
        }
        guard let known = checkedCount(dims) else { throw NodeFailure("the target shape \(requested) is too large") }
        if let i = inferred {
            guard known > 0, count % known == 0 else {
                throw NodeFailure("cannot infer the -1 in \(requested) for an input of \(count) values")
            }
            dims[i] = count / known
        }
        guard dims.reduce(1, *) == count else {
            throw NodeFailure("cannot reshape \(Shape(input)) (\(count) values) to \(Shape(dims))")
        }
        return dims
    }

    /// Transpose's `perm` (reversed axes by default), checked.
    func permutation(_ a: Attributes, rank: Int) throws -> [Int] {
        let perm = try a.ints("perm") ?? Array((0..<rank).reversed())
        guard perm.count == rank, perm.sorted() == Array(0..<rank) else {
            throw NodeFailure("perm \(perm) is not a permutation of the input's \(rank) axes")
        }
        return perm
    }

    /// Slice: starts, ends, axes and steps as attributes (before opset 10) or inputs.
    mutating func slicing(_ node: Onnx_NodeProto, _ a: Attributes, input dims: [Int]) throws -> Slicing {
        guard let starts = try integerList(node, a, attribute: "starts", input: 1),
              let ends = try integerList(node, a, attribute: "ends", input: 2) else {
            throw NodeFailure("it has no starts or ends")
        }
        let axes = try integerList(node, a, attribute: "axes", input: 3) ?? Array(0..<starts.count)
        let steps = try integerList(node, a, attribute: "steps", input: 4) ?? [Int](repeating: 1, count: starts.count)
        guard ends.count == starts.count, axes.count == starts.count, steps.count == starts.count else {
            throw NodeFailure("its starts, ends, axes and steps have \(starts.count), \(ends.count), \(axes.count) and \(steps.count) values")
        }
        let normalized = try axes.map { try normalizeAxis($0, rank: dims.count, "axis") }
        guard Set(normalized).count == normalized.count else { throw NodeFailure("its axes \(axes) repeat an axis") }
        guard let s = Slicing.onnx(dims: dims, starts: starts, ends: ends, axes: normalized, steps: steps) else {
            throw NodeFailure("a step is 0")
        }
        return s
    }

    /// Split's pieces along `axis`: the sizes as an attribute (before opset 13) or input, or
    /// `num_outputs` (opset 18) or as many equal parts as the node has outputs.
    mutating func splits(_ node: Onnx_NodeProto, _ a: Attributes, input dims: [Int]) throws -> [Slicing] {
        let axis = try normalizeAxis(try a.int("axis", default: 0), rank: dims.count)
        let n = dims[axis]
        var sizes: [Int]
        if let given = try integerList(node, a, attribute: "split", input: 1) {
            sizes = given
        } else {
            let parts = try a.int("num_outputs") ?? node.output.count
            guard parts >= 1 && parts <= n else { throw NodeFailure("it splits \(n) elements into \(parts) parts") }
            let each = (n + parts - 1) / parts
            sizes = (0..<parts).map { min(each, max(0, n - $0 * each)) }
        }
        guard sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == n else {
            throw NodeFailure("its split sizes \(sizes) do not add up to the \(n) elements of axis \(axis)")
        }
        var at = 0
        return sizes.map { size in
            var s = Slicing(starts: [Int](repeating: 0, count: dims.count), steps: [Int](repeating: 1, count: dims.count), counts: dims)
            s.starts[axis] = size > 0 ? at : 0
            s.counts[axis] = size
            at += size
            return s
        }
    }

    /// Tile's repeats (an input from opset 6).
    mutating func repeats(_ node: Onnx_NodeProto, rank: Int) throws -> [Int] {
        guard let t = try constantInput(node, 1, "repeats") else { throw NodeFailure("it has no repeats input") }
        let r = try t.integers("its repeats input")
        guard r.count == rank, r.allSatisfy({ $0 >= 0 && $0 <= Int64(ModelLimits.maxWindow) }) else {
            throw NodeFailure("its repeats \(r) do not give one count from 0 to \(ModelLimits.maxWindow) per axis of rank \(rank)")
        }
        return r.map { Int($0) }
    }

    // MARK: - On computed tensors

    mutating func importLayout(_ node: Onnx_NodeProto, _ a: Attributes, _ out: String) throws {
        let x = try value(node, 0)
        let dims = shape(x).dims
        switch node.opType {
        case "Reshape", "Flatten", "Squeeze", "Unsqueeze":
            try add(out, .reshape(Shape(try reshapedDims(node, a, input: dims))), [x])
        case "Transpose":
            let perm = try permutation(a, rank: dims.count)
            if inputIsNHWC, node.input[0] == inputName, perm == [0, 3, 1, 2] {
                // The NHWC graph input is fed as NCHW already: this edge transpose is the identity.
                try add(out, .identity, [x])
            } else {
                try add(out, .transpose(perm: perm), [x])
            }
        case "Slice":
            try add(out, .slice(try slicing(node, a, input: dims)), [x])
        case "Split":
            let pieces = try splits(node, a, input: dims)
            guard pieces.count == node.output.count else {
                throw NodeFailure("it has \(node.output.count) outputs for \(pieces.count) pieces")
            }
            for (name, piece) in zip(node.output, pieces) where !name.isEmpty {
                try add(name, .slice(piece), [x])
            }
        case "Tile":
            try add(out, .tile(repeats: try repeats(node, rank: dims.count)), [x])
        default:
            throw NodeFailure("op '\(node.opType)' is not a layout operator")
        }
    }
}
