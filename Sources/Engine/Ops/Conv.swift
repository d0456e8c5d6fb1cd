/// Conv (any groups, strides, dilations, pads; BatchNormalization folded in): per group, output =
/// W · im2col(input) (see `ConvPlan`), and a following Relu/Clip/LeakyRelu applied in its epilogue.
struct ConvOp: Op {
    let conv: Convolution

    var kindName: String { conv.groups == 1 ? "Conv" : (conv.isDepthwise ? "DepthwiseConv" : "GroupConv") }
    var acceptsEpilogue: Bool { true }

    func outputShape(_ check: ShapeCheck) throws -> Shape {
        try check.inputs(1)
        let x = try check.nchw()
        let c = conv
        guard x.c == c.inChannelsPerGroup * c.groups else {
            throw check.fail("Conv expects \(c.inChannelsPerGroup * c.groups) input channels (\(c.groups) group(s) of \(c.inChannelsPerGroup)), got \(x.c)")
        }
        guard c.outChannels % c.groups == 0 else {
            throw check.fail("Conv output channels \(c.outChannels) not divisible by group count \(c.groups)")
        }
        guard c.weight.count == c.outChannels * c.inChannelsPerGroup * c.window.kernelH * c.window.kernelW,
              c.bias.count == c.outChannels else { throw check.fail("Conv weight or bias size does not match its shape") }
        guard let o = c.window.outputSize(h: x.h, w: x.w) else {
            throw check.fail("Conv window \(c.window.kernelH)×\(c.window.kernelW) does not fit input \(x.h)×\(x.w)")
        }
        return Shape([x.n, c.outChannels, o.h, o.w])
    }

    /// With an epilogue in the binding, the convolution writes the activation's buffer (applying
    /// it in place, block by block, while in cache); without, its own output.
    func forward(_ context: ForwardContext) -> ForwardPlan {
        let plan = ConvPlan(conv: conv, input: context.inputs[0], output: context.output, threads: context.threads)
        return ForwardPlan(parameters: [plan.packedWeights(), conv.bias], scratchPerThread: plan.scratchPerThread) { b in
            let x = b.x, w = UnsafePointer(b.parameters[0]), bias = UnsafePointer(b.parameters[1])
            let scratch = b.scratch, per = b.scratchPerThread, tags = b.scratchTags, id = b.node
            let fused = b.epilogue?.activation, act = b.epilogue?.output
            let out = act ?? b.output
            return Work(tasks: plan.taskCount) { t, worker in
                plan.run(task: t, input: x, weight: w, bias: bias, output: out,
                         activation: fused, activated: act, scratch: scratch + worker * per,
                         scratchTag: tags + worker, id: id)
            }
        }
    }

    /// The transposed convolution with the same weights, in every mode.
    func backward(_ c: BackwardContext) -> [Work] { [TransposedConvolution.work(conv, c)] }

    func backwardScratch(input: Shape, output: Shape) -> Int {
        TransposedConvolution.scratchPerThread(conv, input: input, output: output)
    }

    func receptiveField(_ context: FieldContext) -> ReceptiveField { context.first.through(conv.window) }

    func cost(output: Shape) -> OpCost {
        OpCost(macs: output.count * conv.inChannelsPerGroup * conv.window.kernelH * conv.window.kernelW,
               parameters: conv.weight.count + conv.bias.count)
    }
}
