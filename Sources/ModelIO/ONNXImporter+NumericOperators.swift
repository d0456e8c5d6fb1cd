// The numeric operators beyond the first set: the variadic Sum, Max and Min, the pointwise
// activations, PRelu, LogSoftmax, the reductions and the normalizations. Only the ONNX attributes
// and inputs are read and checked here; what the ops compute is in Engine/Ops.

import Foundation
import Engine

extension ONNXImporter {
    /// The engine's binary op for an ONNX elementwise operator.
    static let binaryOperations: [String: Engine.Operation] = [
        "Add": .add, "Sub": .sub, "Mul": .mul, "Div": .div, "Pow": .pow, "Sum": .add, "Max": .maximum, "Min": .minimum,
    ]

    /// Sum, Max and Min of one or more inputs, broadcasting: a chain of binary nodes, the last one
    /// named as the ONNX output and the others `<output>::1`, `<output>::2`, …
    mutating func importVariadic(_ node: Onnx_NodeProto, _ out: String) throws {
        guard !node.input.isEmpty else { throw NodeFailure("it has no inputs") }
        let op = Self.binaryOperations[node.opType]!
        var ids: [Int] = []
        for i in node.input.indices { ids.append(try value(node, i, allowConstant: true)) }
        guard ids.contains(where: { graph.values[$0].constant == nil }) else {
            throw NodeFailure("all its inputs are constants, which DeepScope does not fold")
        }
        if ids.count == 1 {
            try add(out, .identity, ids)
            return
        }
        var acc = ids[0]
        for (k, next) in ids.dropFirst().enumerated() {
            let last = k == ids.count - 2
            acc = try add(last ? out : "\(out)::\(k + 1)", op, [acc, next])
        }
    }

    /// PRelu: the slope is a constant of one value or one per channel ([C], [C, 1, 1] or
    /// [1, C, 1, 1] against NCHW).
    mutating func importPRelu(_ node: Onnx_NodeProto, _ out: String) throws {
        let x = try value(node, 0)
        guard let t = try constantInput(node, 1, "slope") else { throw NodeFailure("it has no slope input") }
        let slope = try t.floatValues("its slope")
        let s = shape(x)
        let channels = s.rank >= 2 ? s[1] : 1
        // Unidirectional broadcasting: the slope's dimensions align with the input's last ones.
        let aligned = [Int](repeating: 1, count: max(0, s.rank - t.dims.count)) + t.dims
        let perChannel = s.rank >= 2 && aligned.count == s.rank && slope.count == channels
            && aligned.enumerated().allSatisfy { $0.offset == 1 ? $0.element == channels : $0.element == 1 }
        // Before opset 7 (no broadcasting yet) a slope of C values is per channel whatever its shape.
        let legacy = opset < 7 && s.rank >= 2 && slope.count == channels
        guard slope.count == 1 || perChannel || legacy else {
            throw NodeFailure("its slope has shape \(t.shapeDescription); DeepScope needs one slope or one per channel of \(s)")
        }
        try add(out, .prelu(slope: slope), [x])
    }

    /// The pointwise activations with their ONNX defaults.
    mutating func importPointwise(_ node: Onnx_NodeProto, _ a: Attributes, _ out: String) throws {
        let x = try value(node, 0)
        let op: Engine.Operation
        switch node.opType {
        case "Elu": op = .elu(alpha: try a.float("alpha", default: 1))
        case "Selu": op = .selu(alpha: try a.float("alpha", default: 1.67326319217681884765625),
                                gamma: try a.float("gamma", default: 1.05070102214813232421875))
        case "HardSigmoid": op = .hardSigmoid(alpha: try a.float("alpha", default: 0.2), beta: try a.float("beta", default: 0.5))
        case "HardSwish": op = .hardSwish
        case "Softplus": op = .softplus
        case "Sqrt": op = .sqrt
        case "Gelu":
            let approximate = try a.string("approximate") ?? "none"
            guard approximate == "none" || approximate == "tanh" else { throw NodeFailure("approximate '\(approximate)' is not 'none' or 'tanh'") }
            op = .gelu(tanhApproximation: approximate == "tanh")
        default: op = .erf
        }
        try add(out, op, [x])
    }

    /// Softmax and LogSoftmax along `axis`. Before opset 13 they work on the input flattened to 2-D
    /// at `axis`: over all the dimensions from `axis` on. With trailing dimensions of 1 that is the
    /// op along `axis`; otherwise the input is flattened, the op applied along axis 1, and reshaped back.
    mutating func importAlongAxis(_ node: Onnx_NodeProto, _ a: Attributes, _ out: String,
                                  _ make: (Int) -> Engine.Operation) throws {
        let x = try value(node, 0)
        let s = shape(x)
        let axis = try normalizeAxis(try a.int("axis", default: opset < 13 ? 1 : -1), rank: s.rank)
        if opset >= 13 || s.dims[(axis + 1)...].allSatisfy({ $0 == 1 }) {
            try add(out, make(axis), [x])
            return
        }
        let outer = s.dims[..<axis].reduce(1, *)
        let flat = try add(out + "::flat", .reshape(Shape([outer, s.count / max(outer, 1)])), [x])
        let along = try add(out + "::" + node.opType.lowercased(), make(1), [flat])
        try add(out, .reshape(s), [along])
    }

    /// ReduceMean, ReduceSum and ReduceMax: `axes` as an attribute or (ReduceSum from opset 13, the
    /// others from 18) as a constant input; no axes reduce every axis unless noop_with_empty_axes.
    mutating func importReduce(_ node: Onnx_NodeProto, _ a: Attributes, _ out: String) throws {
        let x = try value(node, 0)
        let rank = shape(x).rank
        var list: [Int64]? = nil
        if let t = try constantInput(node, 1, "axes") {
            guard t.dims.count <= 1 else { throw NodeFailure("its axes input has shape \(t.shapeDescription); it must be 1-D") }
            list = try t.integers("its axes input")
        } else if let attr = try a.ints("axes") {
            list = attr.map { Int64($0) }
        }
        var axes = try (list ?? []).map { try normalizeAxis(Int(clamping: $0), rank: rank) }
        guard Set(axes).count == axes.count else { throw NodeFailure("its axes \(list ?? []) repeat an axis") }
        if axes.isEmpty {
            if try a.int("noop_with_empty_axes", default: 0) != 0 {
                try add(out, .identity, [x])
                return
            }
            axes = Array(0..<rank)
        }
        let keep = try a.int("keepdims", default: 1) != 0
        let kind: ReduceKind = node.opType == "ReduceMean" ? .mean : (node.opType == "ReduceSum" ? .sum : .max)
        try add(out, .reduce(kind, axes: axes.sorted(), keepDims: keep), [x])
    }

    /// InstanceNormalization: scale and B per channel.
    mutating func importInstanceNorm(_ node: Onnx_NodeProto, _ a: Attributes, _ out: String) throws {
        let x = try value(node, 0)
        guard let s = try constantInput(node, 1, "scale"), let b = try constantInput(node, 2, "B") else {
            throw NodeFailure("it needs constant scale and B inputs")
        }
        try add(out, .instanceNorm(scale: try s.floatValues("its scale"), bias: try b.floatValues("its B"),
                                   epsilon: try a.float("epsilon", default: 1e-5)), [x])
    }

    /// LayerNormalization: over every dimension from `axis` on; Scale (and B) of that shape or one
    /// value. Its optional Mean and InvStdDev outputs are not computed.
    mutating func importLayerNorm(_ node: Onnx_NodeProto, _ a: Attributes, _ out: String) throws {
        let x = try value(node, 0)
        let s = shape(x)
        let axis = try normalizeAxis(try a.int("axis", default: -1), rank: s.rank)
        let inner = s.dims[axis...].reduce(1, *)
        func expand(_ t: ConstantTensor?, _ role: String, _ fallback: Float) throws -> [Float] {
            guard let t else { return [Float](repeating: fallback, count: inner) }
            let v = try t.floatValues("its \(role)")
            if v.count == inner { return v }
            guard v.count == 1 else {
                throw NodeFailure("its \(role) has shape \(t.shapeDescription); DeepScope needs \(inner) values (the normalized shape) or 1")
            }
            return [Float](repeating: v[0], count: inner)
        }
        guard let scaleInput = try constantInput(node, 1, "Scale") else { throw NodeFailure("it has no Scale input") }
        let scale = try expand(scaleInput, "Scale", 1), bias = try expand(try constantInput(node, 2, "B"), "B", 0)
        try add(out, .layerNorm(axis: axis, scale: scale, bias: bias, epsilon: try a.float("epsilon", default: 1e-5)), [x])
    }

    /// ConvTranspose: weight [C, M / group, kH, kW]; pads, or output_shape (with auto_pad saying
    /// where the odd row goes); output_padding adds rows and columns at the bottom and right.
    mutating func importConvTranspose(_ node: Onnx_NodeProto, _ a: Attributes, _ out: String) throws {
        let x = try value(node, 0)
        let s = shape(x)
        guard s.rank == 4 else { throw NodeFailure("it needs an NCHW input, got \(s)") }
        guard let w = try constantInput(node, 1, "weight") else { throw NodeFailure("it has no weight input") }
        guard w.dims.count == 4, w.dims.allSatisfy({ $0 > 0 }), w.dims[2] <= ModelLimits.maxWindow, w.dims[3] <= ModelLimits.maxWindow else {
            throw NodeFailure("its weight has shape \(w.shapeDescription); DeepScope supports only 2-D transposed convolutions")
        }
        let groups = try a.int("group", default: 1)
        guard groups >= 1, w.dims[0] == s[1], s[1] % groups == 0 else {
            throw NodeFailure("its weight \(w.shapeDescription) and group \(groups) do not fit \(s[1]) input channels")
        }
        let (kh, kw) = (w.dims[2], w.dims[3])
        if let ks = try a.ints("kernel_shape"), ks != [kh, kw] {
            throw NodeFailure("attribute 'kernel_shape' \(ks) does not match the weight's \(kh)×\(kw)")
        }
        let m = w.dims[1] * groups
        let strides = try inRange(try a.ints("strides") ?? [1, 1], "strides", min: 1, count: 2)
        let dilations = try inRange(try a.ints("dilations") ?? [1, 1], "dilations", min: 1, count: 2)
        let outputPadding = try inRange(try a.ints("output_padding") ?? [0, 0], "output_padding", min: 0, count: 2)
        var pads = try inRange(try a.ints("pads") ?? [0, 0, 0, 0], "pads", min: 0, count: 4)
        let autoPad = try a.string("auto_pad") ?? "NOTSET"
        var wanted = try a.ints("output_shape").map { try inRange($0.suffix(2).map { $0 }, "output_shape", min: 1, count: 2) }
        if wanted == nil && (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") { wanted = [s[2] * strides[0], s[3] * strides[1]] }
        if let wanted {
            for axis in 0..<2 {
                let k = [kh, kw][axis]
                let total = strides[axis] * (s[2 + axis] - 1) + outputPadding[axis] + (k - 1) * dilations[axis] + 1 - wanted[axis]
                guard total >= 0 else { throw NodeFailure("its output_shape \(wanted) is larger than the kernel can reach") }
                let begin = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2
                pads[axis] = begin
                pads[axis + 2] = total - begin
            }
        } else if autoPad == "VALID" {
            pads = [0, 0, 0, 0]
        } else if autoPad != "NOTSET" && !autoPad.isEmpty {
            throw NodeFailure("auto_pad '\(autoPad)' is not NOTSET, VALID, SAME_UPPER or SAME_LOWER")
        }
        var bias: [Float]? = nil
        if let b = try constantInput(node, 2, "bias") {
            guard b.count == m else { throw NodeFailure("its bias has shape \(b.shapeDescription), expected [\(m)]") }
            bias = try b.floatValues("the bias")
        }
        let window = Window(kernelH: kh, kernelW: kw, strideH: strides[0], strideW: strides[1],
                            dilationH: dilations[0], dilationW: dilations[1],
                            padTop: pads[0], padLeft: pads[1], padBottom: pads[2], padRight: pads[3])
        let conv = Convolution(window: window, groups: groups, outChannels: m, inChannelsPerGroup: s[1] / groups,
                               weight: try w.floatValues("the weight"), bias: bias)
        try add(out, .convTranspose(conv, outputPadding: outputPadding), [x])
    }

    /// Resize (opset 10: X, scales; from 11: X, roi, scales, sizes) and Upsample (scales as an
    /// attribute, from opset 9 as an input), over the plane only, nearest or linear. Before opset
    /// 11 the coordinates are asymmetric and nearest takes the floor.
    mutating func importResize(_ node: Onnx_NodeProto, _ a: Attributes, _ out: String) throws {
        let x = try value(node, 0)
        let s = shape(x)
        guard s.rank == 4 else { throw NodeFailure("it needs an NCHW input, got \(s)") }
        let legacy = node.opType == "Upsample" || opset < 11
        let modeName = try a.string("mode") ?? "nearest"
        let mode: Resize.Mode
        switch modeName {
        case "nearest": mode = .nearest
        case "linear", "bilinear": mode = .linear
        default: throw NodeFailure("mode '\(modeName)' is not supported (only 'nearest' and 'linear')")
        }
        var coordinates = Resize.Coordinates.asymmetric, rounding = Resize.Rounding.floor
        if !legacy {
            let c = try a.string("coordinate_transformation_mode") ?? "half_pixel"
            switch c {
            case "half_pixel": coordinates = .halfPixel
            case "pytorch_half_pixel": coordinates = .pytorchHalfPixel
            case "align_corners": coordinates = .alignCorners
            case "asymmetric": coordinates = .asymmetric
            case "tf_half_pixel_for_nn": coordinates = .tfHalfPixelForNN
            default: throw NodeFailure("coordinate_transformation_mode '\(c)' is not supported")
            }
            let r = try a.string("nearest_mode") ?? "round_prefer_floor"
            switch r {
            case "round_prefer_floor": rounding = .roundPreferFloor
            case "round_prefer_ceil": rounding = .roundPreferCeil
            case "floor": rounding = .floor
            case "ceil": rounding = .ceil
            default: throw NodeFailure("nearest_mode '\(r)' is not supported")
            }
            guard try a.int("antialias", default: 0) == 0 else { throw NodeFailure("antialias 1 is not supported") }
            if let axes = try a.ints("axes"), axes.map({ $0 < 0 ? $0 + 4 : $0 }) != [2, 3] {
                throw NodeFailure("axes \(axes) are not supported (only the plane, [2, 3])")
            }
        }
        // Scales: an attribute (Upsample before opset 9) or input 1 (Upsample 9, Resize 10) or 2.
        var scales: [Float]? = try a.floats("scales")
        var sizes: [Int64]? = nil
        let scalesIndex = legacy ? 1 : 2
        if let t = try constantInput(node, scalesIndex, "scales"), t.count > 0 { scales = try t.floatValues("its scales") }
        if !legacy, let t = try constantInput(node, 3, "sizes"), t.count > 0 { sizes = try t.integers("its sizes") }
        let (h, w) = (s[2], s[3])
        var outH: Int, outW: Int, scaleH: Double, scaleW: Double
        if let sizes {
            let plane = sizes.count == 2 ? sizes : Array(sizes.suffix(2))
            guard sizes.count == 2 || (sizes.count == 4 && sizes[0] == Int64(s[0]) && sizes[1] == Int64(s[1])) else {
                throw NodeFailure("its sizes \(sizes) change the batch or channels of \(s); DeepScope resizes only the plane")
            }
            guard plane.allSatisfy({ $0 >= 1 && $0 <= Int64(ModelLimits.maxElements) }) else { throw NodeFailure("its sizes \(sizes) are out of range") }
            if let policy = try a.string("keep_aspect_ratio_policy"), policy != "stretch" {
                throw NodeFailure("keep_aspect_ratio_policy '\(policy)' is not supported")
            }
            (outH, outW) = (Int(plane[0]), Int(plane[1]))
            (scaleH, scaleW) = (Double(outH) / Double(h), Double(outW) / Double(w))
        } else if let scales {
            let plane = scales.count == 2 ? scales : Array(scales.suffix(2))
            guard scales.count == 2 || (scales.count == 4 && scales[0] == 1 && scales[1] == 1) else {
                throw NodeFailure("its scales \(scales) change the batch or channels; DeepScope resizes only the plane")
            }
            guard plane.allSatisfy({ $0 > 0 && $0 <= 1024 }) else { throw NodeFailure("its scales \(scales) are out of range") }
            (scaleH, scaleW) = (Double(plane[0]), Double(plane[1]))
            (outH, outW) = (Int((Double(h) * scaleH).rounded(.down)), Int((Double(w) * scaleW).rounded(.down)))
        } else {
            throw NodeFailure("it has neither scales nor sizes")
        }
        let r = Resize(mode: mode, coordinates: coordinates, rounding: rounding, outH: outH, outW: outW, scaleH: scaleH, scaleW: scaleW)
        try add(out, .resize(r), [x])
    }
}
