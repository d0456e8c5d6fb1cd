import Engine
import TestSupport
import Testing

@Suite("Shape inference errors")
struct GraphErrorTests {
    /// A node whose inputs do not fit, in a graph whose input is [1, 3, 8, 8].
    struct BadNode: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var build: @Sendable (inout Graph, Int) throws -> Void
    }

    static let badNodes: [BadNode] = [
        BadNode(testDescription: "Conv with the wrong input channels") { g, x in
            let conv = Convolution(window: Window(kernelH: 3, kernelW: 3), groups: 1, outChannels: 2, inChannelsPerGroup: 4,
                                   weight: [Float](repeating: 0, count: 2 * 4 * 9), bias: nil)
            try g.addNode(name: "bad", op: .conv(conv), inputs: [x])
        },
        BadNode(testDescription: "grouped Conv with the wrong input channels") { g, x in
            let conv = Convolution(window: Window(kernelH: 1, kernelW: 1), groups: 2, outChannels: 4, inChannelsPerGroup: 1,
                                   weight: [Float](repeating: 0, count: 4), bias: nil)
            try g.addNode(name: "bad", op: .conv(conv), inputs: [x])
        },
        BadNode(testDescription: "Conv with a weight of the wrong size") { g, x in
            let conv = Convolution(window: Window(kernelH: 3, kernelW: 3), groups: 1, outChannels: 2, inChannelsPerGroup: 3,
                                   weight: [Float](repeating: 0, count: 10), bias: nil)
            try g.addNode(name: "bad", op: .conv(conv), inputs: [x])
        },
        BadNode(testDescription: "Conv window larger than the input") { g, x in
            let conv = Convolution(window: Window(kernelH: 9, kernelW: 3), groups: 1, outChannels: 1, inChannelsPerGroup: 3,
                                   weight: [Float](repeating: 0, count: 27), bias: nil)
            try g.addNode(name: "bad", op: .conv(conv), inputs: [x])
        },
        BadNode(testDescription: "Add of shapes that do not broadcast") { g, x in
            let c = try g.addConstant(name: "c", shape: Shape([1, 2, 8, 8]), data: [Float](repeating: 1, count: 128))
            try g.addNode(name: "bad", op: .add, inputs: [x, c])
        },
        BadNode(testDescription: "Mul of shapes that do not broadcast") { g, x in
            let c = try g.addConstant(name: "c", shape: Shape([5]), data: [Float](repeating: 1, count: 5))
            try g.addNode(name: "bad", op: .mul, inputs: [c, x])
        },
        BadNode(testDescription: "Concat of shapes that differ outside the axis") { g, x in
            let c = try g.addConstant(name: "c", shape: Shape([1, 3, 9, 8]), data: [Float](repeating: 1, count: 216))
            try g.addNode(name: "bad", op: .concat(axis: 1), inputs: [x, c])
        },
        BadNode(testDescription: "Concat of different ranks") { g, x in
            let c = try g.addConstant(name: "c", shape: Shape([3, 8, 8]), data: [Float](repeating: 1, count: 192))
            try g.addNode(name: "bad", op: .concat(axis: 0), inputs: [x, c])
        },
        BadNode(testDescription: "Concat along an axis past the rank") { g, x in
            try g.addNode(name: "bad", op: .concat(axis: 4), inputs: [x, x])
        },
        BadNode(testDescription: "Reshape to another element count") { g, x in
            try g.addNode(name: "bad", op: .reshape(Shape([1, 191])), inputs: [x])
        },
        BadNode(testDescription: "Gemm with the wrong input features") { g, x in
            let d = Dense(inFeatures: 100, outFeatures: 2, weight: [Float](repeating: 0, count: 200), bias: nil)
            try g.addNode(name: "bad", op: .dense(d), inputs: [x])
        },
        BadNode(testDescription: "BatchNormalization with the wrong channel count") { g, x in
            try g.addNode(name: "bad", op: .batchNorm(scale: [1, 1], shift: [0, 0]), inputs: [x])
        },
        BadNode(testDescription: "MaxPool window larger than the input") { g, x in
            try g.addNode(name: "bad", op: .maxPool(Window(kernelH: 3, kernelW: 10)), inputs: [x])
        },
        BadNode(testDescription: "MaxPool pads as large as the window") { g, x in
            try g.addNode(name: "bad", op: .maxPool(Window(kernelH: 2, kernelW: 2, padTop: 2)), inputs: [x])
        },
        BadNode(testDescription: "Pad with pads for another rank") { g, x in
            try g.addNode(name: "bad", op: .pad(begins: [1, 1], ends: [1, 1], value: 0), inputs: [x])
        },
        BadNode(testDescription: "Softmax along an axis past the rank") { g, x in
            try g.addNode(name: "bad", op: .softmax(axis: 4), inputs: [x])
        },
        BadNode(testDescription: "Add with one input") { g, x in
            try g.addNode(name: "bad", op: .add, inputs: [x])
        },
    ]

    /// Each throws `GraphError.shapeMismatch` naming the node, and adds nothing to the graph.
    @Test(arguments: badNodes)
    func throwsShapeMismatchNamingTheNode(_ bad: BadNode) throws {
        var graph = Graph()
        let x = try graph.addInput(name: "x", shape: Shape([1, 3, 8, 8]))
        _ = try graph.addNode(name: "fine", op: .relu, inputs: [x])
        let valuesBefore = graph.values.count
        do {
            try bad.build(&graph, x)
            Issue.record("no error")
        } catch let error as GraphError {
            guard case .shapeMismatch(let node, let detail) = error else {
                Issue.record("expected shapeMismatch, got \(error)")
                return
            }
            #expect(node == "bad")
            #expect(!detail.isEmpty)
            #expect(error.description.contains("'bad'"))
        }
        #expect(graph.value(named: "bad") == nil)
        #expect(graph.nodes.count == 1)
        #expect(graph.values.count <= valuesBefore + 1)  // at most the constant the case added
    }

    @Test func duplicateNames() throws {
        var graph = Graph()
        let x = try graph.addInput(name: "x", shape: Shape([1, 3, 8, 8]))
        _ = try graph.addNode(name: "a", op: .relu, inputs: [x])
        #expect(throws: GraphError.duplicateName("a")) { try graph.addNode(name: "a", op: .sigmoid, inputs: [x]) }
        #expect(throws: GraphError.duplicateName("x")) {
            try graph.addConstant(name: "x", shape: Shape([1]), data: [0])
        }
        #expect(graph.nodes.count == 1)
    }
}
