import Engine
import Testing

/// Each op's cost (multiply-adds, parameters), as `inspect` lists it.
@Suite struct OpCostTests {
    @Test func convolutionCountsOneMultiplyAddPerTapAndOutput() {
        let w = Window(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)
        let conv = Convolution(window: w, groups: 2, outChannels: 4, inChannelsPerGroup: 3,
                               weight: [Float](repeating: 0, count: 4 * 3 * 9), bias: nil)
        // [1, 4, 5, 5] outputs, each 3 input channels × 9 taps.
        #expect(Operation.conv(conv).cost(output: Shape([1, 4, 5, 5])) == OpCost(macs: 100 * 27, parameters: 108 + 4))
    }

    @Test func denseAndBatchNorm() {
        let d = Dense(inFeatures: 6, outFeatures: 2, weight: [Float](repeating: 0, count: 12), bias: nil)
        #expect(Operation.dense(d).cost(output: Shape([3, 2])) == OpCost(macs: 3 * 12, parameters: 14))
        let bn = Operation.batchNorm(scale: [1, 2], shift: [0, 0])
        #expect(bn.cost(output: Shape([1, 2, 4, 4])) == OpCost(macs: 32, parameters: 4))
    }

    @Test func elementwiseOpsHaveNoParametersOrMultiplyAdds() {
        for op in [Operation.tanh, .sigmoid, .relu, .add, .identity] {
            #expect(op.cost(output: Shape([1, 3, 4, 4])) == OpCost(macs: 0, parameters: 0), "\(op.kindName)")
        }
    }

    /// Tanh keeps its input's shape and its receptive field.
    @Test func tanhShapeAndReceptiveField() throws {
        var g = Graph()
        let x = try g.addInput(name: "x", shape: Shape([1, 2, 9, 9]))
        let c = try g.addNode(name: "c", op: .conv(Convolution(
            window: Window(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2), groups: 1, outChannels: 2,
            inChannelsPerGroup: 2, weight: [Float](repeating: 0.1, count: 36), bias: nil)), inputs: [x])
        let t = try g.addNode(name: "t", op: .tanh, inputs: [c])
        #expect(g.values[t].shape == g.values[c].shape)
        let rf = ReceptiveField.all(in: g)
        #expect(rf[t] != nil && rf[t] == rf[c])
        #expect(throws: GraphError.shapeMismatch(node: "u", detail: "Tanh takes 1 input(s), got 2")) {
            try g.addNode(name: "u", op: .tanh, inputs: [c, t])
        }
    }
}
