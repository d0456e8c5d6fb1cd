// How each ONNX operator becomes engine operations: the importer's one switch over `opType` and
// the operators that need more than a line. An op's semantics live in Engine/Ops; here only the
// ONNX attributes are read and checked.

import Foundation
import Engine

extension ONNXImporter {
    // MARK: - Operators

    mutating func importNode(_ node: Onnx_NodeProto, output out: String) throws {
        let a = Attributes(node.attribute)
        switch node.opType {
        case "Constant":
            constants[out] = try constantValue(a)
            graph.foldedNodes.append(FoldedNode(name: out, op: "Constant"))
        case "Identity", "Dropout":
            if node.opType == "Dropout", try a.int("training_mode", default: 0) != 0 {
                throw NodeFailure("training mode is not supported")
            }
            if let name = node.input.first, !name.isEmpty, graph.value(named: name) == nil, let c = try constant(name) {
                constants[out] = c   // an alias of a constant stays a constant (e.g. shared weights)
                graph.foldedNodes.append(FoldedNode(name: out, op: node.opType))
            } else {
                try add(out, .identity, [try value(node, 0)])
            }
        case "Conv":
            try importConv(node, a, out)
        case "BatchNormalization":
            try importBatchNorm(node, a, out)
        case "Relu":
            try add(out, .relu, [try value(node, 0)])
        case "Sigmoid":
            try add(out, .sigmoid, [try value(node, 0)])
        case "Tanh":
            try add(out, .tanh, [try value(node, 0)])
        case "LeakyRelu":
            try add(out, .leakyRelu(alpha: try a.float("alpha", default: 0.01)), [try value(node, 0)])
        case "Clip":
            try importClip(node, a, out)
        case "MaxPool", "AveragePool":
            try importPool(node, a, out)
        case "GlobalAveragePool":
            try add(out, .globalAveragePool, [try value(node, 0)])
        case "LRN":
            guard let size = try a.int("size") else { throw NodeFailure("attribute 'size' is missing") }
            guard size >= 1 && size <= ModelLimits.maxWindow else { throw NodeFailure("attribute 'size' \(size) is out of range") }
            let p = LocalResponseNorm(size: size, alpha: try a.float("alpha", default: 1e-4),
                                      beta: try a.float("beta", default: 0.75), bias: try a.float("bias", default: 1))
            try add(out, .lrn(p), [try value(node, 0)])
        case "Add", "Mul", "Sub", "Div", "Pow":
            try importElementwise(node, a, out)
        case "Sum", "Max", "Min":
            try importVariadic(node, out)
        case "Elu", "Selu", "HardSigmoid", "HardSwish", "Softplus", "Erf", "Sqrt", "Gelu":
            try importPointwise(node, a, out)
        case "PRelu":
            try importPRelu(node, out)
        case "LogSoftmax":
            try importAlongAxis(node, a, out) { .logSoftmax(axis: $0) }
        case "ReduceMean", "ReduceSum", "ReduceMax":
            try importReduce(node, a, out)
        case "GlobalMaxPool":
            try add(out, .globalMaxPool, [try value(node, 0)])
        case "Resize", "Upsample":
            try importResize(node, a, out)
        case "ConvTranspose":
            try importConvTranspose(node, a, out)
        case "InstanceNormalization":
            try importInstanceNorm(node, a, out)
        case "LayerNormalization":
            try importLayerNorm(node, a, out)
        case "Concat":
            guard !node.input.isEmpty else { throw NodeFailure("it has no inputs") }
            var ids: [Int] = []
            for i in node.input.indices { ids.append(try value(node, i, allowConstant: true)) }
            let axis = try normalizeAxis(try a.int("axis", default: 1), rank: shape(ids[0]).rank)
            try add(out, .concat(axis: axis), ids)
        case "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Slice", "Split", "Tile":
            try importLayout(node, a, out)
        case "Gemm":
            try importGemm(node, a, out)
        case "MatMul":
            try importMatMul(node, out)
        case "Softmax":
            try importSoftmax(node, a, out)
        case "Pad":
            try importPad(node, a, out)
        default:
            throw NodeFailure("op '\(node.opType)' is not supported")
        }
    }

    func constantValue(_ a: Attributes) throws -> ConstantTensor {
        if let t = try a.tensor("value") { return try TensorDecoder.decode(t, what: "its value") }
        if let f = try a.float("value_float") { return ConstantTensor(dims: [], storage: .float([f])) }
        if let fs = try a.floats("value_floats") { return ConstantTensor(dims: [fs.count], storage: .float(fs)) }
        if let i = try a.int("value_int") { return ConstantTensor(dims: [], storage: .int64([Int64(i)])) }
        if let list = try a.ints("value_ints") { return ConstantTensor(dims: [list.count], storage: .int64(list.map { Int64($0) })) }
        throw NodeFailure("it has no value that DeepScope reads (value, value_float(s) or value_int(s))")
    }

    /// The spatial window of a convolution or pooling: strides, dilations, pads or auto_pad.
    func window(_ a: Attributes, kernel: (Int, Int), input: Shape, pooling: Bool) throws -> Window {
        guard input.rank == 4 else { throw NodeFailure("it needs an NCHW input, got \(input)") }
        let strides = try inRange(try a.ints("strides") ?? [1, 1], "strides", min: 1, count: 2)
        let dilations = try inRange(try a.ints("dilations") ?? [1, 1], "dilations", min: 1, count: 2)
        var pads = try inRange(try a.ints("pads") ?? [0, 0, 0, 0], "pads", min: 0, count: 4)
        let ceil = pooling ? try a.int("ceil_mode", default: 0) != 0 : false
        let autoPad = try a.string("auto_pad") ?? "NOTSET"
        switch autoPad {
        case "NOTSET", "":
            break
        case "VALID":
            pads = [0, 0, 0, 0]
        case "SAME_UPPER", "SAME_LOWER":
            let k = [kernel.0, kernel.1]
            for axis in 0..<2 {
                let n = input[2 + axis], s = strides[axis]
                let outSize = (n + s - 1) / s
                let span = (k[axis] - 1) * dilations[axis] + 1
                let total = max(0, (outSize - 1) * s + span - n)
                let begin = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2
                pads[axis] = begin
                pads[axis + 2] = total - begin
            }
        default:
            throw NodeFailure("auto_pad '\(autoPad)' is not NOTSET, VALID, SAME_UPPER or SAME_LOWER")
        }
        return Window(kernelH: kernel.0, kernelW: kernel.1, strideH: strides[0], strideW: strides[1],
                      dilationH: dilations[0], dilationW: dilations[1],
                      padTop: pads[0], padLeft: pads[1], padBottom: pads[2], padRight: pads[3], ceilMode: ceil)
    }

    mutating func importConv(_ node: Onnx_NodeProto, _ a: Attributes, _ out: String) throws {
        let x = try value(node, 0)
        guard let w = try constantInput(node, 1, "weight") else { throw NodeFailure("it has no weight input") }
        guard w.dims.count == 4 else {
            throw NodeFailure("its weight has shape \(w.shapeDescription); DeepScope supports only 2-D convolutions (4-D weights)")
        }
        let weight = try w.floatValues("the weight")
        let (m, cg, kh, kw) = (w.dims[0], w.dims[1], w.dims[2], w.dims[3])
        guard m > 0, cg > 0, kh > 0, kw > 0, kh <= ModelLimits.maxWindow, kw <= ModelLimits.maxWindow else {
            throw NodeFailure("its weight has shape \(w.shapeDescription), which has an empty or oversized dimension")
        }
        if let ks = try a.ints("kernel_shape"), ks != [kh, kw] {
            throw NodeFailure("attribute 'kernel_shape' \(ks) does not match the weight's \(kh)×\(kw)")
        }
        let groups = try a.int("group", default: 1)
        guard groups >= 1 && groups <= ModelLimits.maxWindow else { throw NodeFailure("attribute 'group' \(groups) is out of range") }
        var bias: [Float]? = nil
        if let b = try constantInput(node, 2, "bias") {
            guard b.count == m, b.dims.count == 1 else {
                throw NodeFailure("its bias has shape \(b.shapeDescription), expected [\(m)]")
            }
            bias = try b.floatValues("the bias")
        }
        let win = try window(a, kernel: (kh, kw), input: shape(x), pooling: false)
        try add(out, .conv(Convolution(window: win, groups: groups, outChannels: m, inChannelsPerGroup: cg,
                                       weight: weight, bias: bias)), [x])
    }

    mutating func importBatchNorm(_ node: Onnx_NodeProto, _ a: Attributes, _ out: String) throws {
        let x = try value(node, 0)
        guard try a.int("training_mode", default: 0) == 0 else { throw NodeFailure("training mode is not supported") }
        guard try a.int("spatial", default: 1) == 1 else { throw NodeFailure("attribute 'spatial' 0 is not supported") }
        var params: [[Float]] = []
        for (i, role) in ["scale", "B", "mean", "var"].enumerated() {
            guard let t = try constantInput(node, i + 1, role) else { throw NodeFailure("it has no '\(role)' input") }
            params.append(try t.floatValues("'\(role)'"))
        }
        let c = params[0].count
        guard params.allSatisfy({ $0.count == c }) else {
            throw NodeFailure("its scale, B, mean and var have different lengths (\(params.map { String($0.count) }.joined(separator: ", ")))")
        }
        let eps = Double(try a.float("epsilon", default: 1e-5))
        var scale = [Float](repeating: 0, count: c), shift = [Float](repeating: 0, count: c)
        for i in 0..<c {
            let v = Double(params[3][i]) + eps
            guard v > 0 else { throw NodeFailure("channel \(i) has variance + epsilon = \(v), which is not positive") }
            let s = Double(params[0][i]) / v.squareRoot()
            scale[i] = Float(s)
            shift[i] = Float(Double(params[1][i]) - Double(params[2][i]) * s)
        }
        try add(out, .batchNorm(scale: scale, shift: shift), [x])
    }

    mutating func importClip(_ node: Onnx_NodeProto, _ a: Attributes, _ out: String) throws {
        let x = try value(node, 0)
        // Before opset 11 the bounds are attributes; from 11 on optional constant inputs.
        var lo = try a.float("min", default: -.infinity)
        var hi = try a.float("max", default: .infinity)
        for (index, role) in [(1, "min"), (2, "max")] {
            guard let t = try constantInput(node, index, role) else { continue }
            guard t.count == 1 else { throw NodeFailure("its '\(role)' input has shape \(t.shapeDescription); it must be a scalar") }
            if index == 1 { lo = t.floats[0] } else { hi = t.floats[0] }
        }
        guard !lo.isNaN, !hi.isNaN else { throw NodeFailure("a bound is NaN") }
        try add(out, .clip(lo: lo, hi: hi), [x])
    }

    mutating func importPool(_ node: Onnx_NodeProto, _ a: Attributes, _ out: String) throws {
        let x = try value(node, 0)
        guard let ks = try a.ints("kernel_shape") else { throw NodeFailure("attribute 'kernel_shape' is missing") }
        let kernel = try inRange(ks, "kernel_shape", min: 1, count: 2)
        let win = try window(a, kernel: (kernel[0], kernel[1]), input: shape(x), pooling: true)
        if node.opType == "MaxPool" {
            guard try a.int("storage_order", default: 0) == 0 else { throw NodeFailure("storage_order 1 is not supported") }
            try add(out, .maxPool(win), [x])
        } else {
            let include = try a.int("count_include_pad", default: 0) != 0
            try add(out, .averagePool(win, countIncludePad: include), [x])
        }
    }

    mutating func importElementwise(_ node: Onnx_NodeProto, _ a: Attributes, _ out: String) throws {
        guard node.input.count == 2 else { throw NodeFailure("it has \(node.input.count) inputs, expected 2") }
        let first = try value(node, 0, allowConstant: true)
        var second = try value(node, 1, allowConstant: true)
        let constant0 = graph.values[first].constant != nil, constant1 = graph.values[second].constant != nil
        guard !(constant0 && constant1) else {
            throw NodeFailure("both inputs are constants, which DeepScope does not fold")
        }
        // Before opset 7, `broadcast` with `axis` aligns the second operand at `axis`, not at the end.
        if opset < 7, try a.int("broadcast", default: 0) != 0, let axisAttr = try a.int("axis"), constant1 {
            let rank = shape(first).rank, b = shape(second)
            let axis = try normalizeAxis(axisAttr, rank: rank)
            let trailing = rank - axis - b.rank
            guard trailing >= 0 else { throw NodeFailure("the second operand \(b) does not fit at axis \(axis)") }
            if trailing > 0 {
                let name = node.input[1] + "::aligned"
                if let existing = graph.value(named: name) {
                    second = existing
                } else {
                    second = try graph.addConstant(name: name, shape: Shape(b.dims + [Int](repeating: 1, count: trailing)),
                                                   data: graph.values[second].constant!)
                }
            }
        }
        try add(out, Self.binaryOperations[node.opType]!, [first, second])
    }

    mutating func importGemm(_ node: Onnx_NodeProto, _ a: Attributes, _ out: String) throws {
        var x = try value(node, 0)
        if try a.int("transA", default: 0) != 0 {
            // A transposed [K, 1] column is the row [1, K]: the same values.
            let s = shape(x)
            guard s.rank == 2, s[1] == 1 else { throw NodeFailure("transA 1 is not supported except on a single column [K, 1]; the input is \(s)") }
            x = try add(out + "::row", .reshape(Shape([1, s[0]])), [x])
        }
        let transB = try a.int("transB", default: 0) != 0
        let alpha = try a.float("alpha", default: 1), beta = try a.float("beta", default: 1)
        guard let b = try constantInput(node, 1, "B") else { throw NodeFailure("it has no B input") }
        guard b.dims.count == 2, b.dims[0] > 0, b.dims[1] > 0 else {
            throw NodeFailure("its B has shape \(b.shapeDescription); it must be a non-empty matrix")
        }
        let values = try b.floatValues("B")
        let (k, n) = transB ? (b.dims[1], b.dims[0]) : (b.dims[0], b.dims[1])
        var weight = [Float](repeating: 0, count: k * n)
        if transB {
            for i in 0..<(k * n) { weight[i] = values[i] * alpha }
        } else {
            for r in 0..<k { for c in 0..<n { weight[c * k + r] = values[r * n + c] * alpha } }
        }
        var bias: [Float]? = nil
        if let c = try constantInput(node, 2, "C") {
            let cv = try c.floatValues("C")
            guard cv.count == n || cv.count == 1, c.dims.last.map({ $0 == cv.count }) ?? true else {
                throw NodeFailure("its C has shape \(c.shapeDescription); DeepScope needs a bias of \(n) values or 1")
            }
            bias = cv.count == n ? cv.map { $0 * beta } : [Float](repeating: cv[0] * beta, count: n)
        }
        try add(out, .dense(Dense(inFeatures: k, outFeatures: n, weight: weight, bias: bias)), [x])
    }

    mutating func importMatMul(_ node: Onnx_NodeProto, _ out: String) throws {
        let x = try value(node, 0)
        guard shape(x).rank >= 2 else { throw NodeFailure("its first input is \(shape(x)); DeepScope needs a matrix [N, K] or rows [..., K]") }
        guard let b = try constantInput(node, 1, "second input") else { throw NodeFailure("it has no second input") }
        guard b.dims.count == 2, b.dims[0] > 0, b.dims[1] > 0 else {
            throw NodeFailure("its second input has shape \(b.shapeDescription); it must be a non-empty matrix [K, N]")
        }
        let values = try b.floatValues("the second input")
        let (k, n) = (b.dims[0], b.dims[1])
        guard shape(x).dims.last == k else { throw NodeFailure("its first input \(shape(x)) does not end in \(k), the rows of its second") }
        var weight = [Float](repeating: 0, count: k * n)
        for r in 0..<k { for c in 0..<n { weight[c * k + r] = values[r * n + c] } }
        let dense = Engine.Operation.dense(Dense(inFeatures: k, outFeatures: n, weight: weight, bias: nil))
        // Rows of any rank keep their leading dimensions ([1, 1, 1, K] too, which Gemm would flatten).
        let expected = Shape(shape(x).dims.dropLast() + [n])
        if shape(x).rank > 2, (try? Graph.inferShape(node: out, op: dense, inputs: [shape(x)])) != expected {
            try add(out, .reshape(expected), [try add(out + "::rows", dense, [x])])
        } else {
            try add(out, dense, [x])
        }
    }

    mutating func importSoftmax(_ node: Onnx_NodeProto, _ a: Attributes, _ out: String) throws {
        try importAlongAxis(node, a, out) { .softmax(axis: $0) }
    }

    mutating func importPad(_ node: Onnx_NodeProto, _ a: Attributes, _ out: String) throws {
        let x = try value(node, 0)
        let rank = shape(x).rank
        let mode = try a.string("mode") ?? "constant"
        guard ["constant", "reflect", "edge"].contains(mode) else { throw NodeFailure("mode '\(mode)' is not supported (only 'constant', 'reflect' and 'edge')") }
        var pads: [Int64]
        var value: Float = try a.float("value", default: 0)
        var axes = Array(0..<rank)
        if let t = try constantInput(node, 1, "pads") {
            pads = try t.integers("its pads input")
            if let v = try constantInput(node, 2, "constant_value") {
                guard v.count == 1 else { throw NodeFailure("its constant_value has shape \(v.shapeDescription); it must be a scalar") }
                value = v.floats[0]
            }
            if let ax = try constantInput(node, 3, "axes") {
                axes = try ax.integers("its axes input").map {
                    try normalizeAxis(Int(clamping: $0), rank: rank)
                }
                guard Set(axes).count == axes.count else { throw NodeFailure("its axes repeat an axis") }
            }
        } else if let list = try a.ints("pads") ?? a.ints("paddings") {
            pads = list.map { Int64($0) }
        } else {
            throw NodeFailure("it has no pads")
        }
        guard pads.count == 2 * axes.count else {
            throw NodeFailure("it has \(pads.count) pads for \(axes.count) axes; expected \(2 * axes.count)")
        }
        guard pads.allSatisfy({ $0 >= -Int64(ModelLimits.maxWindow) && $0 <= Int64(ModelLimits.maxWindow) }) else {
            throw NodeFailure("its pads \(pads) exceed \(ModelLimits.maxWindow)")
        }
        var begins = [Int](repeating: 0, count: rank), ends = [Int](repeating: 0, count: rank)
        for (i, axis) in axes.enumerated() {
            begins[axis] = Int(pads[i])
            ends[axis] = Int(pads[i + axes.count])
        }
        try add(out, mode == "constant" ? .pad(begins: begins, ends: ends, value: value)
                                         : .padEdges(begins: begins, ends: ends, reflect: mode == "reflect"), [x])
    }
}
