/// Spatial geometry of a convolution or pooling window over an NCHW tensor.
///
/// Pads are explicit and may be asymmetric (TensorFlow's "SAME" puts the extra row and column at the
/// bottom and right).
public struct Window: Hashable, Sendable {
    public var kernelH: Int, kernelW: Int
    public var strideH: Int = 1, strideW: Int = 1
    public var dilationH: Int = 1, dilationW: Int = 1
    public var padTop: Int = 0, padLeft: Int = 0, padBottom: Int = 0, padRight: Int = 0
    /// Pooling only: output size rounds up, so a last window may hang over the bottom/right edge.
    public var ceilMode: Bool = false

    public init(kernelH: Int, kernelW: Int, strideH: Int = 1, strideW: Int = 1,
                dilationH: Int = 1, dilationW: Int = 1,
                padTop: Int = 0, padLeft: Int = 0, padBottom: Int = 0, padRight: Int = 0,
                ceilMode: Bool = false) {
        self.kernelH = kernelH; self.kernelW = kernelW
        self.strideH = strideH; self.strideW = strideW
        self.dilationH = dilationH; self.dilationW = dilationW
        self.padTop = padTop; self.padLeft = padLeft; self.padBottom = padBottom; self.padRight = padRight
        self.ceilMode = ceilMode
    }

    /// Output height and width for an input of `h`×`w`, or nil when the window does not fit.
    public func outputSize(h: Int, w: Int) -> (h: Int, w: Int)? {
        func out(_ n: Int, _ k: Int, _ s: Int, _ d: Int, _ p0: Int, _ p1: Int) -> Int? {
            let span = d * (k - 1) + 1
            let room = n + p0 + p1 - span
            guard room >= 0, s > 0 else { return nil }
            var o = (ceilMode ? (room + s - 1) / s : room / s) + 1
            // ONNX/Caffe rule: the last window must start inside the input or the begin padding.
            if ceilMode && (o - 1) * s >= n + p0 { o -= 1 }
            return o
        }
        guard let oh = out(h, kernelH, strideH, dilationH, padTop, padBottom),
              let ow = out(w, kernelW, strideW, dilationW, padLeft, padRight) else { return nil }
        return (oh, ow)
    }

    /// A 1×1, stride-1, unpadded window: the convolution is a plain matrix product over the input,
    /// and so is its transpose.
    public var isPointwise: Bool {
        kernelH == 1 && kernelW == 1 && strideH == 1 && strideW == 1
            && padTop == 0 && padLeft == 0 && padBottom == 0 && padRight == 0
    }
}

/// A convolution's parameters. Weights are OIHW: [outChannels, inChannels / groups, kH, kW].
public struct Convolution: Sendable {
    public var window: Window
    public var groups: Int
    public var outChannels: Int
    public var inChannelsPerGroup: Int
    public var weight: [Float]
    public var bias: [Float]

    public init(window: Window, groups: Int, outChannels: Int, inChannelsPerGroup: Int,
                weight: [Float], bias: [Float]?) {
        self.window = window; self.groups = groups
        self.outChannels = outChannels; self.inChannelsPerGroup = inChannelsPerGroup
        self.weight = weight
        self.bias = bias ?? [Float](repeating: 0, count: outChannels)
    }

    /// One input channel per group and one output channel per group: each channel is filtered on
    /// its own (the direct per-channel kernels run it, forward and backward).
    public var isDepthwise: Bool { inChannelsPerGroup == 1 && groups == outChannels }
}

/// A fully connected layer y = x · Wᵀ + b with W stored [outFeatures, inFeatures].
public struct Dense: Sendable {
    public var inFeatures: Int, outFeatures: Int
    public var weight: [Float]
    public var bias: [Float]

    public init(inFeatures: Int, outFeatures: Int, weight: [Float], bias: [Float]?) {
        self.inFeatures = inFeatures; self.outFeatures = outFeatures
        self.weight = weight
        self.bias = bias ?? [Float](repeating: 0, count: outFeatures)
    }
}

/// Local response normalization across channels (AlexNet/GoogLeNet):
/// y = x / (bias + alpha / size · Σ x²)^beta over `size` neighbouring channels.
public struct LocalResponseNorm: Hashable, Sendable {
    public var size: Int, alpha: Float, beta: Float, bias: Float
    public init(size: Int, alpha: Float, beta: Float, bias: Float) {
        self.size = size; self.alpha = alpha; self.beta = beta; self.bias = bias
    }
}

/// Every operation the engine runs: the registry of ops. Parameters (weights) live in the
/// operation; tensors flowing between operations are graph values. Each case's rules (shape,
/// forward plan, backward rules, receptive field, cost) are in its own file under `Ops/`.
public enum Operation: Sendable {
    /// Input 0: NCHW. The output is NCHW.
    case conv(Convolution)
    /// Per-channel affine y = x · scale[c] + shift[c]: an inference BatchNormalization. Folded into
    /// the convolution before it when that convolution feeds nothing else.
    case batchNorm(scale: [Float], shift: [Float])
    case relu
    case clip(lo: Float, hi: Float)
    case leakyRelu(alpha: Float)
    case sigmoid
    case tanh
    case maxPool(Window)
    case averagePool(Window, countIncludePad: Bool)
    case globalAveragePool
    case lrn(LocalResponseNorm)
    /// Elementwise with NumPy broadcasting; either input may be a constant.
    case add, mul
    /// The rest of the binary family (`Ops/Binary.swift`): Sub, Div, Pow, Max and Min, broadcasting.
    case sub, div, pow, maximum, minimum
    case concat(axis: Int)
    /// Flatten and Reshape: the same data under a new shape (the output shape is given).
    case reshape(Shape)
    /// Input [N, inFeatures] (any rank whose trailing size is inFeatures after flattening).
    case dense(Dense)
    /// Dropout and Identity.
    case identity
    case softmax(axis: Int)
    /// Constant padding: `begins` and `ends` per dimension.
    case pad(begins: [Int], ends: [Int], value: Float)
    /// Pointwise activations (`Ops/Pointwise.swift` and one file each), any shape.
    case elu(alpha: Float), selu(alpha: Float, gamma: Float), hardSigmoid(alpha: Float, beta: Float)
    case hardSwish, softplus, erf, sqrt
    case gelu(tanhApproximation: Bool)
    /// LeakyRelu with one slope per channel (axis 1), or one slope for all.
    case prelu(slope: [Float])
    case logSoftmax(axis: Int)
    /// ReduceMean/ReduceSum/ReduceMax over sorted, distinct `axes` (adjacent once axes of size 1
    /// are set aside); GlobalMaxPool is ReduceMax over the plane, keeping its dimensions.
    case reduce(ReduceKind, axes: [Int], keepDims: Bool)
    case globalMaxPool
    /// Each NCHW plane standardized, then scaled and shifted per channel.
    case instanceNorm(scale: [Float], bias: [Float], epsilon: Float)
    /// Each row of the dimensions from `axis` on standardized, then scaled and shifted per element of the row.
    case layerNorm(axis: Int, scale: [Float], bias: [Float], epsilon: Float)
    /// The transpose of `Convolution`'s window; its weight is ONNX's [inChannels, outChannels / groups,
    /// kH, kW] and `inChannelsPerGroup` is inChannels / groups. `outputPadding`: [bottom, right].
    case convTranspose(Convolution, outputPadding: [Int])
    /// Resize and Upsample over the plane, nearest or linear (`Ops/Resize.swift`).
    case resize(Resize)
    /// Pad in `reflect` (mirrored, the edge not repeated) or `edge` (the border repeated) mode.
    case padEdges(begins: [Int], ends: [Int], reflect: Bool)
    /// Output axis j is input axis perm[j].
    case transpose(perm: [Int])
    /// A strided window of every axis (Slice, and each output of Split).
    case slice(Slicing)
    /// The input repeated along each axis.
    case tile(repeats: [Int])

    /// The op that implements this case: the one place that maps cases to op types.
    var rules: any Op {
        switch self {
        case .conv(let c): return ConvOp(conv: c)
        case .batchNorm(let scale, let shift): return BatchNormOp(scale: scale, shift: shift)
        case .relu: return ReluOp()
        case .clip(let lo, let hi): return ClipOp(lo: lo, hi: hi)
        case .leakyRelu(let a): return LeakyReluOp(alpha: a)
        case .sigmoid: return SigmoidOp()
        case .tanh: return TanhOp()
        case .maxPool(let w): return MaxPoolOp(window: w)
        case .averagePool(let w, let inc): return AveragePoolOp(window: w, countIncludePad: inc)
        case .globalAveragePool: return GlobalAveragePoolOp()
        case .lrn(let p): return LRNOp(parameters: p)
        case .add: return BinaryOp(kind: .add)
        case .mul: return BinaryOp(kind: .mul)
        case .sub: return BinaryOp(kind: .sub)
        case .div: return BinaryOp(kind: .div)
        case .pow: return BinaryOp(kind: .pow)
        case .maximum: return BinaryOp(kind: .max)
        case .minimum: return BinaryOp(kind: .min)
        case .concat(let axis): return ConcatOp(axis: axis)
        case .reshape(let s): return ReshapeOp(target: s)
        case .dense(let d): return DenseOp(dense: d)
        case .identity: return IdentityOp()
        case .softmax(let axis): return SoftmaxOp(axis: axis)
        case .pad(let b, let e, let v): return PadOp(begins: b, ends: e, value: v)
        case .elu(let a): return PointwiseOp(function: EluFunction(alpha: a))
        case .selu(let a, let g): return PointwiseOp(function: SeluFunction(alpha: a, gamma: g))
        case .hardSigmoid(let a, let b): return PointwiseOp(function: HardSigmoidFunction(alpha: a, beta: b))
        case .hardSwish: return PointwiseOp(function: HardSwishFunction())
        case .softplus: return PointwiseOp(function: SoftplusFunction())
        case .erf: return PointwiseOp(function: ErfFunction())
        case .sqrt: return PointwiseOp(function: SqrtFunction())
        case .gelu(let t): return PointwiseOp(function: GeluFunction(tanhApproximation: t))
        case .prelu(let slope): return PReluOp(slope: slope)
        case .logSoftmax(let axis): return LogSoftmaxOp(axis: axis)
        case .reduce(let k, let axes, let keep): return ReduceOp(kind: k, axes: axes, keepDims: keep, name: k.kindName)
        case .globalMaxPool: return ReduceOp(kind: .max, axes: [2, 3], keepDims: true, name: "GlobalMaxPool")
        case .instanceNorm(let s, let b, let e): return InstanceNormOp(scale: s, bias: b, epsilon: e)
        case .layerNorm(let axis, let s, let b, let e): return LayerNormOp(axis: axis, scale: s, bias: b, epsilon: e)
        case .padEdges(let b, let e, let reflect): return PadEdgeOp(begins: b, ends: e, reflect: reflect)
        case .convTranspose(let c, let p): return ConvTransposeOp(conv: c, outputPadding: p)
        case .resize(let r): return ResizeOp(resize: r)
        case .transpose(let perm): return TransposeOp(perm: perm)
        case .slice(let s): return SliceOp(slicing: s)
        case .tile(let r): return TileOp(repeats: r)
        }
    }

    /// The ONNX-like name of the operation, for messages and `inspect`.
    public var kindName: String { rules.kindName }

    /// Multiply-adds and parameters of one run producing `output`, for `inspect`.
    public func cost(output: Shape) -> OpCost { rules.cost(output: output) }
}
