// The networks the projection tests run (built with NetBuilder, ProjectionNetworks.swift).

import Engine
import TestSupport
import Testing

// MARK: - The networks

/// One network per convolution shape: each convolution path of the backward pass alone.
let projectionConvNets: [ProjectionNet] = [
    ProjectionNet("conv 3×3 padded", [1, 3, 7, 6]) { b, x in try b.conv("y", x, out: 5, pads: [1, 1, 1, 1]) },
    ProjectionNet("conv 3×3 stride 2, asymmetric pads", [1, 3, 9, 8]) { b, x in
        try b.conv("y", x, out: 4, s: 2, pads: [0, 1, 1, 0])
    },
    ProjectionNet("conv 5×3 strides 2,1, SAME pads", [1, 2, 9, 10]) { b, x in
        try b.conv("y", x, out: 3, k: 5, kw: 3, s: 2, sw: 1, pads: [1, 1, 2, 1])
    },
    ProjectionNet("conv dilated 2", [1, 2, 9, 9]) { b, x in try b.conv("y", x, out: 3, d: 2, pads: [2, 2, 2, 2]) },
    ProjectionNet("conv grouped 2", [1, 4, 7, 7]) { b, x in try b.conv("y", x, out: 6, pads: [1, 1, 1, 1], groups: 2) },
    ProjectionNet("depthwise 3×3", [1, 4, 8, 7]) { b, x in try b.conv("y", x, out: 4, pads: [1, 1, 1, 1], groups: 4) },
    ProjectionNet("depthwise stride 2, dilated, asymmetric pads", [1, 3, 11, 10]) { b, x in
        try b.conv("y", x, out: 3, s: 2, d: 2, pads: [2, 1, 1, 2], groups: 3)
    },
    ProjectionNet("depthwise stride 2, SAME pads", [1, 3, 9, 8]) { b, x in
        try b.conv("y", x, out: 3, s: 2, pads: [0, 0, 1, 1], groups: 3)
    },
    ProjectionNet("depthwise multiplier 2", [1, 3, 6, 6]) { b, x in try b.conv("y", x, out: 6, pads: [1, 1, 1, 1], groups: 3) },
    ProjectionNet("pointwise 1×1", [1, 8, 5, 6]) { b, x in try b.conv("y", x, out: 7, k: 1) },
    ProjectionNet("pointwise 1×1, 13 → 20 channels", [1, 13, 5, 4]) { b, x in try b.conv("y", x, out: 20, k: 1) },
    ProjectionNet("pointwise 1×1 grouped", [1, 8, 5, 5]) { b, x in try b.conv("y", x, out: 8, k: 1, groups: 2) },
    ProjectionNet("1×1 stride 2", [1, 8, 7, 7]) { b, x in try b.conv("y", x, out: 5, k: 1, s: 2) },
    ProjectionNet("1×1 stride 2, one input channel", [1, 1, 7, 7]) { b, x in try b.conv("y", x, out: 4, k: 1, s: 2) },
    ProjectionNet("1×1 padded", [1, 7, 5, 5]) { b, x in try b.conv("y", x, out: 3, k: 1, pads: [1, 0, 0, 1]) },
    ProjectionNet("1×1 stride 2 grouped", [1, 8, 6, 6]) { b, x in try b.conv("y", x, out: 6, k: 1, s: 2, groups: 2) },
    ProjectionNet("pointwise 1×1, 60 → 10 channels on a 3×3 map", [1, 60, 3, 3]) { b, x in try b.conv("y", x, out: 10, k: 1) },
    ProjectionNet("depthwise 5×5 stride 1", [1, 3, 9, 8]) { b, x in try b.conv("y", x, out: 3, k: 5, pads: [2, 2, 2, 2], groups: 3) },
    ProjectionNet("depthwise 2×2 stride 1, SAME pads", [1, 3, 7, 6]) { b, x in
        try b.conv("y", x, out: 3, k: 2, pads: [0, 0, 1, 1], groups: 3)
    },
    ProjectionNet("depthwise 3×3 stride 1, unpadded", [1, 3, 7, 6]) { b, x in try b.conv("y", x, out: 3, groups: 3) },
    ProjectionNet("depthwise 3×3 stride 1, dilated 2", [1, 3, 9, 9]) { b, x in
        try b.conv("y", x, out: 3, d: 2, pads: [2, 2, 2, 2], groups: 3)
    },
    ProjectionNet("depthwise 3×3 stride 1, batch 2", [2, 3, 6, 5]) { b, x in
        try b.conv("y", x, out: 3, pads: [1, 1, 1, 1], groups: 3)
    },
    ProjectionNet("depthwise 3×3 stride 1, wide plane", [1, 2, 9, 40]) { b, x in
        try b.conv("y", x, out: 2, pads: [1, 1, 1, 1], groups: 2)
    },
    ProjectionNet("conv 300 output channels", [1, 2, 4, 4]) { b, x in try b.conv("y", x, out: 300, pads: [1, 1, 1, 1]) },
    ProjectionNet("conv 380 columns", [1, 2, 20, 19]) { b, x in try b.conv("y", x, out: 3, pads: [1, 1, 1, 1]) },
    ProjectionNet("conv batch 2", [2, 3, 6, 6]) { b, x in try b.conv("y", x, out: 4, pads: [1, 1, 1, 1]) },
]

/// Networks covering the other operations, alone and in combination.
let projectionOpNets: [ProjectionNet] = [
    // BatchNormalization: standalone, and after a convolution folded or not.
    ProjectionNet("BatchNormalization standalone", [1, 3, 5, 6]) { b, x in try b.batchNorm("y", x) },
    ProjectionNet("Conv + BatchNormalization unfolded", [1, 3, 7, 7], targets: ["bn", "relu"]) { b, x in
        let c = try b.conv("conv", x, out: 4, pads: [1, 1, 1, 1])
        return try b.node("relu", .relu, [try b.batchNorm("bn", c)])
    },
    ProjectionNet("Conv + BatchNormalization folded", [1, 3, 7, 7], targets: ["bn", "relu"], fold: true) { b, x in
        let c = try b.conv("conv", x, out: 4, pads: [1, 1, 1, 1])
        return try b.node("relu", .relu, [try b.batchNorm("bn", c)])
    },
    ProjectionNet("BatchNormalization on [1, K]", [1, 3, 4, 4]) { b, x in
        let g = try b.node("gap", .globalAveragePool, [x])
        let f = try b.node("flat", .reshape(Shape([1, 3])), [g])
        return try b.batchNorm("y", try b.dense("fc", f, out: 5))
    },
    // Rectifiers fused into the convolution before them; the pre-activation output as a unit too.
    ProjectionNet("Conv + Relu", [1, 3, 7, 7], targets: ["act", "conv"]) { b, x in
        try b.node("act", .relu, [try b.conv("conv", x, out: 4, pads: [1, 1, 1, 1])])
    },
    ProjectionNet("Conv + Clip(0, 6)", [1, 3, 7, 7], targets: ["act"]) { b, x in
        try b.node("act", .clip(lo: 0, hi: 6), [try b.conv("conv", x, out: 4, pads: [1, 1, 1, 1], gain: 5)])
    },
    ProjectionNet("Conv + Clip(0, 0.8)", [1, 3, 7, 7], targets: ["act", "conv"]) { b, x in
        try b.node("act", .clip(lo: 0, hi: 0.8), [try b.conv("conv", x, out: 4, pads: [1, 1, 1, 1])])
    },
    ProjectionNet("Conv + Clip(-0.5, 0.8)", [1, 3, 7, 7], targets: ["act"]) { b, x in
        try b.node("act", .clip(lo: -0.5, hi: 0.8), [try b.conv("conv", x, out: 4, pads: [1, 1, 1, 1])])
    },
    ProjectionNet("Conv + LeakyRelu(0.1)", [1, 3, 7, 7], targets: ["act"]) { b, x in
        try b.node("act", .leakyRelu(alpha: 0.1), [try b.conv("conv", x, out: 4, pads: [1, 1, 1, 1])])
    },
    ProjectionNet("Conv + LeakyRelu(-0.3)", [1, 3, 7, 7], targets: ["act"]) { b, x in
        try b.node("act", .leakyRelu(alpha: -0.3), [try b.conv("conv", x, out: 4, pads: [1, 1, 1, 1])])
    },
    ProjectionNet("Rectifiers not after a convolution, Identity", [1, 2, 6, 6], targets: ["k2", "l1"]) { b, x in
        var v = try b.node("r0", .relu, [x])
        v = try b.conv("c1", v, out: 3, pads: [1, 1, 1, 1])
        v = try b.node("a1", .add, [v, try b.constant("bias1", [1, 3, 1, 1], in: -0.2...0.2)])
        v = try b.node("l1", .leakyRelu(alpha: 0.2), [v])
        v = try b.conv("c2", v, out: 3, pads: [1, 1, 1, 1])
        v = try b.node("id", .identity, [v])
        return try b.node("k2", .clip(lo: -0.3, hi: 0.7), [v])
    },
    ProjectionNet("Conv + Sigmoid", [1, 3, 6, 6]) { b, x in
        try b.node("y", .sigmoid, [try b.conv("conv", x, out: 4, pads: [1, 1, 1, 1], gain: 2)])
    },
    ProjectionNet("Conv + Tanh + Conv", [1, 3, 6, 6], targets: ["t", "y"]) { b, x in
        let t = try b.node("t", .tanh, [try b.conv("conv", x, out: 4, pads: [1, 1, 1, 1])])
        return try b.conv("y", t, out: 3, pads: [1, 1, 1, 1])
    },
    // Pooling.
    ProjectionNet("MaxPool 2×2 after Relu", [1, 3, 8, 8], targets: ["pool"]) { b, x in
        let r = try b.node("relu", .relu, [try b.conv("conv", x, out: 3, pads: [1, 1, 1, 1])])
        return try b.node("pool", .maxPool(Window(kernelH: 2, kernelW: 2, strideH: 2, strideW: 2)), [r])
    },
    ProjectionNet("MaxPool 3×3 stride 2 padded, negative input", [1, 2, 9, 9], inputKind: .negative) { b, x in
        try b.node("y", .maxPool(Window(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2,
                                        padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)), [x])
    },
    ProjectionNet("MaxPool ceil mode with padding", [1, 2, 10, 10]) { b, x in
        let c = try b.conv("conv", x, out: 2, pads: [1, 1, 1, 1])
        return try b.node("y", .maxPool(Window(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1,
                                               padBottom: 1, padRight: 1, ceilMode: true)), [c])
    },
    ProjectionNet("MaxPool dilated", [1, 2, 9, 9]) { b, x in
        try b.node("y", .maxPool(Window(kernelH: 2, kernelW: 2, dilationH: 2, dilationW: 2)), [x])
    },
    ProjectionNet("AveragePool count_include_pad", [1, 2, 9, 9]) { b, x in
        try b.node("y", .averagePool(Window(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1,
                                            padBottom: 1, padRight: 1), countIncludePad: true), [x])
    },
    ProjectionNet("AveragePool exclude pad", [1, 2, 9, 9]) { b, x in
        try b.node("y", .averagePool(Window(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1,
                                            padBottom: 1, padRight: 1), countIncludePad: false), [x])
    },
    ProjectionNet("AveragePool ceil overhang, count_include_pad", [1, 2, 10, 10]) { b, x in
        try b.node("y", .averagePool(Window(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1,
                                            padBottom: 1, padRight: 1, ceilMode: true), countIncludePad: true), [x])
    },
    ProjectionNet("AveragePool ceil overhang, exclude pad", [1, 2, 10, 10]) { b, x in
        try b.node("y", .averagePool(Window(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1,
                                            padBottom: 1, padRight: 1, ceilMode: true), countIncludePad: false), [x])
    },
    ProjectionNet("AveragePool dilated, asymmetric pads", [1, 2, 9, 9]) { b, x in
        try b.node("y", .averagePool(Window(kernelH: 3, kernelW: 2, strideH: 2, strideW: 1, dilationH: 2, dilationW: 2,
                                            padTop: 1, padLeft: 0, padBottom: 2, padRight: 1), countIncludePad: true), [x])
    },
    ProjectionNet("GlobalAveragePool", [1, 3, 5, 6]) { b, x in
        try b.node("y", .globalAveragePool, [try b.conv("conv", x, out: 4, pads: [1, 1, 1, 1])])
    },
    // LRN.
    ProjectionNet("LRN size 3 after Relu", [1, 3, 6, 6], targets: ["lrn"]) { b, x in
        let r = try b.node("relu", .relu, [try b.conv("conv", x, out: 6, pads: [1, 1, 1, 1], gain: 2)])
        return try b.node("lrn", .lrn(LocalResponseNorm(size: 3, alpha: 0.5, beta: 0.75, bias: 1)), [r])
    },
    ProjectionNet("LRN size 4", [1, 3, 5, 5]) { b, x in
        let c = try b.conv("conv", x, out: 5, pads: [1, 1, 1, 1], gain: 2)
        return try b.node("y", .lrn(LocalResponseNorm(size: 4, alpha: 0.3, beta: 0.6, bias: 2)), [c])
    },
    // Add.
    ProjectionNet("Residual Add", [1, 3, 6, 6], targets: ["out", "sum"]) { b, x in
        let a = try b.node("ra", .relu, [try b.conv("ca", x, out: 4, pads: [1, 1, 1, 1])])
        let c = try b.conv("cb", a, out: 4, pads: [1, 1, 1, 1])
        let s = try b.node("sum", .add, [c, a])
        return try b.node("out", .relu, [s])
    },
    ProjectionNet("Add constants: channel, scalar, rank 3", [1, 3, 5, 6]) { b, x in
        var v = try b.node("a1", .add, [x, try b.constant("k1", [1, 3, 1, 1])])
        v = try b.node("a2", .add, [try b.constant("k2", [1]), v])
        v = try b.node("a3", .add, [v, try b.constant("k3", [3, 1, 6])])
        return try b.conv("y", v, out: 2, pads: [1, 1, 1, 1])
    },
    ProjectionNet("Add broadcast activations", [1, 3, 6, 5], targets: ["s1", "s2"]) { b, x in
        let c = try b.conv("conv", x, out: 4, pads: [1, 1, 1, 1])
        let g = try b.node("gap", .globalAveragePool, [c])
        let s1 = try b.node("s1", .add, [c, g])
        let s2 = try b.node("s2", .add, [g, s1])
        return try b.node("y", .concat(axis: 1), [s1, s2])
    },
    ProjectionNet("Add x + x", [1, 2, 5, 5]) { b, x in
        let c = try b.conv("conv", x, out: 3, pads: [1, 1, 1, 1])
        return try b.node("y", .add, [c, c])
    },
    // Mul.
    ProjectionNet("Mul by constants", [1, 3, 5, 6]) { b, x in
        let c = try b.conv("conv", x, out: 4, pads: [1, 1, 1, 1])
        let m = try b.node("m1", .mul, [c, try b.constant("k1", [1, 4, 1, 1])])
        return try b.node("y", .mul, [try b.constant("k2", [4, 5, 6]), m])
    },
    ProjectionNet("Squeeze-excitation Mul of two activations", [1, 3, 6, 6], targets: ["y", "se"]) { b, x in
        let r = try b.node("relu", .relu, [try b.conv("conv", x, out: 6, pads: [1, 1, 1, 1])])
        let g = try b.node("gap", .globalAveragePool, [r])
        let e1 = try b.node("e1", .relu, [try b.conv("squeeze", g, out: 2, k: 1)])
        let se = try b.node("se", .sigmoid, [try b.conv("expand", e1, out: 6, k: 1, gain: 2)])
        return try b.node("y", .mul, [r, se])
    },
    ProjectionNet("Mul x · x and two maps", [1, 2, 5, 5]) { b, x in
        let c1 = try b.conv("c1", x, out: 3, pads: [1, 1, 1, 1])
        let c2 = try b.conv("c2", x, out: 3, pads: [1, 1, 1, 1])
        let sq = try b.node("sq", .mul, [c1, c1])
        return try b.node("y", .mul, [sq, c2])
    },
    // Concat.
    ProjectionNet("Concat of branches", [1, 3, 6, 6], targets: ["y", "cat"]) { b, x in
        let a = try b.node("ra", .relu, [try b.conv("ca", x, out: 3, pads: [1, 1, 1, 1])])
        let c = try b.conv("cb", x, out: 2, k: 1)
        let cat = try b.node("cat", .concat(axis: 1), [a, c])
        return try b.conv("y", cat, out: 3, pads: [1, 1, 1, 1])
    },
    ProjectionNet("Concat with the input and twice the same tensor", [1, 2, 5, 5]) { b, x in
        let c = try b.conv("conv", x, out: 2, pads: [1, 1, 1, 1])
        let cat = try b.node("cat", .concat(axis: 1), [x, c, c])
        return try b.conv("y", cat, out: 3, pads: [1, 1, 1, 1])
    },
    ProjectionNet("Concat along height", [1, 2, 4, 5]) { b, x in
        let c = try b.conv("conv", x, out: 2, pads: [1, 1, 1, 1])
        let cat = try b.node("cat", .concat(axis: 2), [c, x])
        return try b.conv("y", cat, out: 3, pads: [1, 1, 1, 1])
    },
    // Reshape, Flatten, Dense, Softmax: class units.
    ProjectionNet("Classifier: GAP, Flatten, Gemm, Softmax", [1, 3, 6, 6], targets: ["prob", "logits"]) { b, x in
        let r = try b.node("relu", .relu, [try b.conv("conv", x, out: 5, pads: [1, 1, 1, 1])])
        let g = try b.node("gap", .globalAveragePool, [r])
        let f = try b.node("flat", .reshape(Shape([1, 5])), [g])
        let l = try b.dense("logits", f, out: 4, gain: 3)
        return try b.node("prob", .softmax(axis: 1), [l])
    },
    ProjectionNet("Classifier, batch 2", [2, 3, 5, 5], targets: ["prob", "logits"]) { b, x in
        let g = try b.node("gap", .globalAveragePool, [try b.conv("conv", x, out: 4, pads: [1, 1, 1, 1])])
        let l = try b.dense("logits", try b.node("flat", .reshape(Shape([2, 4])), [g]), out: 3, gain: 3)
        return try b.node("prob", .softmax(axis: 1), [l])
    },
    ProjectionNet("Flatten a map into two Gemms", [1, 2, 4, 4], targets: ["fc2", "fc1"]) { b, x in
        let c = try b.conv("conv", x, out: 3, pads: [1, 1, 1, 1])
        let f = try b.node("flat", .reshape(Shape([1, 48])), [c])
        let h = try b.node("fc1", .relu, [try b.dense("h", f, out: 10)])
        return try b.dense("fc2", h, out: 4)
    },
    ProjectionNet("Gemm on a [1, C, 1, 1] input", [1, 3, 4, 4]) { b, x in
        let g = try b.node("gap", .globalAveragePool, [try b.conv("conv", x, out: 4, pads: [1, 1, 1, 1])])
        return try b.dense("y", g, out: 3)
    },
    ProjectionNet("Reshape map to map", [1, 4, 6, 6]) { b, x in
        let r = try b.node("r", .reshape(Shape([1, 16, 3, 3])), [x])
        return try b.conv("y", r, out: 3, pads: [1, 1, 1, 1])
    },
    ProjectionNet("Softmax over channels of a map", [1, 2, 5, 5]) { b, x in
        try b.node("y", .softmax(axis: 1), [try b.conv("conv", x, out: 4, pads: [1, 1, 1, 1], gain: 2)])
    },
    // Pad.
    ProjectionNet("Pad spatial, asymmetric", [1, 2, 5, 6]) { b, x in
        let p = try b.node("pad", .pad(begins: [0, 0, 1, 2], ends: [0, 0, 2, 1], value: 0), [x])
        return try b.conv("y", p, out: 3)
    },
    ProjectionNet("Pad channels with a value", [1, 2, 5, 5]) { b, x in
        let p = try b.node("pad", .pad(begins: [0, 1, 0, 0], ends: [0, 2, 0, 0], value: 0.5), [x])
        return try b.conv("y", p, out: 3, k: 1)
    },
]

/// One tensor feeding one op of every kind: a gradient written by one consumer's backward step
/// and added to by all the others. `reversed` declares the consumers in the opposite order, so
/// the first writer (the last consumer) changes.
func fanOutNet(reversed: Bool) -> ProjectionNet {
    ProjectionNet("Fan-out: one tensor feeds every op\(reversed ? ", reversed" : "")", [1, 3, 6, 6], targets: ["out", "v"]) { b, x in
        let v = try b.node("v", .leakyRelu(alpha: 0.1), [try b.conv("stem", x, out: 4, pads: [1, 1, 1, 1])])
        typealias Branch = (inout NetBuilder, Int) throws -> Int
        // Consumers keeping the 6×6 map, consumers halving it, and the two reducing it to a vector.
        let full: [Branch] = [
            { b, v in try b.conv("dw1", v, out: 4, pads: [1, 1, 1, 1], groups: 4) },
            { b, v in try b.conv("pw", v, out: 3, k: 1) },
            { b, v in try b.conv("c3", v, out: 3, pads: [1, 1, 1, 1]) },
            { b, v in try b.batchNorm("bn", v) },
            { b, v in try b.node("relu", .relu, [v]) },
            { b, v in try b.node("clip", .clip(lo: 0, hi: 0.5), [v]) },
            { b, v in try b.node("leaky", .leakyRelu(alpha: 0.2), [v]) },
            { b, v in try b.node("sig", .sigmoid, [v]) },
            { b, v in try b.node("lrn", .lrn(LocalResponseNorm(size: 3, alpha: 0.5, beta: 0.75, bias: 1)), [v]) },
            { b, v in try b.node("id", .identity, [v]) },
            { b, v in try b.node("sm", .softmax(axis: 1), [v]) },
            { b, v in try b.node("mk", .mul, [v, try b.constant("k", [1, 4, 1, 1])]) },
            { b, v in try b.node("sq", .mul, [v, v]) },
            { b, v in try b.node("ak", .add, [try b.constant("k1", [1]), v]) },
            { b, v in try b.node("twice", .concat(axis: 1), [v, v]) },
            { b, v in try b.conv("padconv", try b.node("pad", .pad(begins: [0, 0, 1, 1], ends: [0, 0, 1, 1], value: 0), [v]), out: 2) },
            { b, v in try b.node("back", .reshape(Shape([1, 4, 6, 6])), [try b.node("rows", .reshape(Shape([1, 4, 36, 1])), [v])]) },
        ]
        let half: [Branch] = [
            { b, v in try b.conv("dw2", v, out: 4, s: 2, pads: [1, 1, 1, 1], groups: 4) },
            { b, v in try b.conv("pw2", v, out: 3, k: 1, s: 2) },
            { b, v in try b.node("mp", .maxPool(Window(kernelH: 2, kernelW: 2, strideH: 2, strideW: 2)), [v]) },
            { b, v in try b.node("ap", .averagePool(Window(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1,
                                                           padBottom: 1, padRight: 1), countIncludePad: false), [v]) },
        ]
        let vector: [Branch] = [
            { b, v in try b.conv("gapmix", try b.node("gap", .globalAveragePool, [v]), out: 3, k: 1) },
            { b, v in try b.node("fcmap", .reshape(Shape([1, 3, 1, 1])), [try b.dense("fc", v, out: 3)]) },
        ]
        var outs: [(Int, Int)] = []   // (kind, value)
        var all: [(Int, Branch)] = full.map { (0, $0) } + half.map { (1, $0) } + vector.map { (2, $0) }
        if reversed { all.reverse() }
        for (kind, branch) in all { outs.append((kind, try branch(&b, v))) }
        let fullMix = try b.conv("fullmix", try b.node("fullcat", .concat(axis: 1), outs.filter { $0.0 == 0 }.map(\.1)), out: 3, k: 1)
        let halfCat = try b.node("halfcat", .concat(axis: 1), outs.filter { $0.0 == 1 }.map(\.1))
        let halfMix = try b.node("halfgap", .globalAveragePool, [try b.conv("halfmix", halfCat, out: 3, pads: [1, 1, 1, 1])])
        var sum = try b.node("s1", .add, [fullMix, halfMix])
        for (i, v) in outs.filter({ $0.0 == 2 }).map(\.1).enumerated() { sum = try b.node("s\(i + 2)", .add, [sum, v]) }
        return try b.node("out", .identity, [sum])
    }
}

/// Networks with ReLU, max pooling, residual Add and Concat, Clip and LeakyRelu, projected end to
/// end in every mode.
let projectionEndToEndNets: [ProjectionNet] = [
    fanOutNet(reversed: false),
    fanOutNet(reversed: true),
    ProjectionNet("VGG-like: Conv, Relu, MaxPool, twice", [1, 3, 12, 12], targets: ["r3", "p2", "r2", "p1"]) { b, x in
        var v = try b.node("r1", .relu, [try b.conv("c1", x, out: 4, pads: [1, 1, 1, 1])])
        v = try b.node("p1", .maxPool(Window(kernelH: 2, kernelW: 2, strideH: 2, strideW: 2)), [v])
        v = try b.node("r2", .relu, [try b.conv("c2", v, out: 6, pads: [1, 1, 1, 1])])
        v = try b.node("p2", .maxPool(Window(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2,
                                             padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)), [v])
        return try b.node("r3", .relu, [try b.conv("c3", v, out: 5, pads: [1, 1, 1, 1])])
    },
    ProjectionNet("Integer VGG-like with ties and zero windows", [1, 2, 10, 10], targets: ["p2", "p1"],
                  inputKind: .integers(-2...2)) { b, x in
        // Integer weights and biases: every activation is an integer, ties are everywhere, and the
        // negative biases leave whole windows at zero after the Relu.
        func intConv(_ name: String, _ v: Int, out: Int, _ b: inout NetBuilder) throws -> Int {
            let cin = b.shape(v)[1]
            let w = integerFloats(out * cin * 9, in: -1...1, using: &b.rng)
            let bias = integerFloats(out, in: -3 ... -1, using: &b.rng)
            return try b.node(name, .conv(Convolution(window: Window(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1,
                                                                     padBottom: 1, padRight: 1),
                                                      groups: 1, outChannels: out, inChannelsPerGroup: cin,
                                                      weight: w, bias: bias)), [v])
        }
        var v = try b.node("r1", .relu, [try intConv("c1", x, out: 3, &b)])
        v = try b.node("p1", .maxPool(Window(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1,
                                             padBottom: 1, padRight: 1, ceilMode: true)), [v])
        v = try b.node("r2", .relu, [try intConv("c2", v, out: 3, &b)])
        return try b.node("p2", .maxPool(Window(kernelH: 2, kernelW: 2, strideH: 2, strideW: 2, ceilMode: true)), [v])
    },
    ProjectionNet("Residual and Concat with every rectifier", [1, 3, 12, 12],
                  targets: ["prob", "fc", "k2", "leaky", "pool", "cat", "sum", "relu6"]) { b, x in
        let stem = try b.node("relu6", .clip(lo: 0, hi: 6), [try b.conv("stem", x, out: 6, pads: [1, 1, 1, 1], gain: 3)])
        let r = try b.node("rb1", .relu, [try b.conv("cb1", stem, out: 6, pads: [1, 1, 1, 1])])
        let s = try b.node("sum", .add, [try b.conv("cb2", r, out: 6, pads: [1, 1, 1, 1]), stem])
        let rs = try b.node("rsum", .relu, [s])
        let side = try b.node("side", .leakyRelu(alpha: 0.1), [try b.conv("branch", stem, out: 3, k: 1)])
        let cat = try b.node("cat", .concat(axis: 1), [rs, side])
        let pool = try b.node("pool", .maxPool(Window(kernelH: 2, kernelW: 2, strideH: 2, strideW: 2)), [cat])
        let l = try b.node("leaky", .leakyRelu(alpha: 0.2), [try b.conv("c3", pool, out: 6, s: 2, pads: [1, 1, 1, 1])])
        let k2 = try b.node("k2", .clip(lo: -0.5, hi: 1), [try b.conv("dw", l, out: 6, pads: [1, 1, 1, 1], groups: 6)])
        let g = try b.node("gap", .globalAveragePool, [k2])
        let f = try b.node("flat", .reshape(Shape([1, 6])), [g])
        let fc = try b.dense("fc", f, out: 5, gain: 3)
        return try b.node("prob", .softmax(axis: 1), [fc])
    },
]
