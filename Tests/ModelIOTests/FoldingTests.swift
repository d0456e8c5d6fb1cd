import Foundation
import Engine
import ModelIO
import Testing

/// Constant folding at load: what folds (with INT64 shape arithmetic), what it computes, what is
/// recorded for `inspect`, and the sentences for what cannot be folded.
@Suite("Constant folding at load")
struct FoldingTests {
    /// A model whose output is `x * c`, where `c` is the constant `build` computes into "c".
    func scaled(opset: Int = 13, shape: [Int] = [1, 3, 2, 2], _ build: (inout ONNXBuilder) -> Void) throws -> (Model, [Float]) {
        var b = ONNXBuilder(opset: opset, shape: shape)
        build(&b)
        b.node("Mul", ["x", "c"], ["y"])
        b.output("y")
        let m = try b.load()
        let mul = try #require(m.node("y"))
        return (m, try #require(m.graph.values[mul.inputs[1]].constant))
    }

    @Test func integerShapeArithmetic() throws {
        // Shape, Slice, integer Mul/Sub/Div, Range, ReduceMax, ConstantOfShape, Cast and Gather: c = [1.5, 1.5, 1.5].
        let (m, c) = try scaled { b in
            b.ints("one", [1], [1]); b.ints("two", [1], [2]); b.ints("three", [], [3]); b.ints("zero", [], [0])
            b.ints("step", [], [1]); b.ints("axis1", [1], [0])
            b.node("Shape", ["x"], ["s"])
            b.node("Slice", ["s", "one", "two"], ["s1"])                      // [3]
            b.node("Mul", ["s1", "two"], ["s2"])                              // [6]
            b.node("Sub", ["s2", "three"], ["s3"])                            // [3]
            b.node("Range", ["zero", "three", "step"], ["r"])                 // [0, 1, 2]
            b.node("ReduceMax", ["r"], ["rmax"], [attr("keepdims", int: 1)])   // [2]
            b.node("Div", ["rmax", "two"], ["s4"])                            // [1]
            b.node("Add", ["s3", "zero"], ["s5"])                             // [3]
            b.node("ConstantOfShape", ["s5"], ["filled"], [attr("value", tensor: floatTensor("", [1], [0.5]))])
            b.node("Cast", ["s4"], ["s4f"], [attr("to", int: 1)])             // FLOAT [1]
            b.node("Add", ["filled", "s4f"], ["f2"])                          // [1.5, 1.5, 1.5]
            b.node("Gather", ["r", "axis1"], ["first"], [attr("axis", int: 0)])  // [0]
            b.node("Cast", ["first"], ["firstf"], [attr("to", int: 1)])
            b.node("Sub", ["f2", "firstf"], ["f3"])
            b.ints("target", [4], [1, 3, 1, 1])
            b.node("Reshape", ["f3", "target"], ["c"])
        }
        #expect(c == [1.5, 1.5, 1.5])
        #expect(m.graph.nodes.count == 1)
        #expect(m.graph.foldedNodes.count == 15)
        #expect(m.graph.foldedNodes.first == FoldedNode(name: "s", op: "Shape"))
    }

    @Test func layoutOnConstants() throws {
        // A [2, 3] weight transposed, tiled, sliced backwards, split and concatenated back.
        let (_, c) = try scaled(shape: [1, 3, 2, 2]) { b in
            b.weight("w", [2, 3], [1, 2, 3, 4, 5, 6])
            b.ints("reps", [2], [1, 2]); b.ints("st", [1], [-1]); b.ints("en", [1], [-100]); b.ints("ax", [1], [1]); b.ints("stp", [1], [-2])
            b.ints("sizes", [2], [1, 2]); b.ints("shape", [4], [1, 3, 1, 1]); b.ints("ex", [2], [3, 1])
            b.node("Transpose", ["w"], ["wt"])                                // [[1,4],[2,5],[3,6]]
            b.node("Tile", ["wt", "reps"], ["tiled"])                         // [3, 4]
            b.node("Slice", ["tiled", "st", "en", "ax", "stp"], ["back"])     // columns 3, 1: [[4,4],[5,5],[6,6]]
            b.node("Split", ["back", "sizes"], ["top", "rest"], [attr("axis", int: 0)])
            b.node("Concat", ["rest", "top"], ["rot"], [attr("axis", int: 0)])  // [[5,5],[6,6],[4,4]]
            b.node("ReduceSum", ["rot", "ax"], ["sum"], [attr("keepdims", int: 0)])  // [10, 12, 8]
            b.node("Unsqueeze", ["sum", "ax"], ["col"])                        // [3, 1]
            b.node("Expand", ["col", "ex"], ["col2"])
            b.node("Squeeze", ["col2"], ["flat"])
            b.node("Reshape", ["flat", "shape"], ["c"])
        }
        #expect(c == [10, 12, 8])
    }

    @Test func comparisonsAndWhere() throws {
        let (_, c) = try scaled { b in
            b.weight("a", [3, 1, 1], [1, -2, 3])
            b.weight("zero", [], [0])
            b.node("Greater", ["a", "zero"], ["positive"])
            b.node("Neg", ["a"], ["negated"])
            b.node("Where", ["positive", "a", "negated"], ["c"])
        }
        #expect(c == [1, 2, 3])
    }

    @Test func theFoldedNodesAreListed() throws {
        var b = ONNXBuilder(opset: 13)
        b.ints("shape", [1], [3])
        b.node("ConstantOfShape", ["shape"], ["ones"], [attr("value", tensor: floatTensor("", [1], [1]))])
        b.ints("t", [4], [1, 3, 1, 1])
        b.node("Reshape", ["ones", "t"], ["bias"])
        b.node("Add", ["x", "bias"], ["y"])
        b.output("y")
        let m = try b.load()
        #expect(m.graph.foldedNodes == [FoldedNode(name: "ones", op: "ConstantOfShape"), FoldedNode(name: "bias", op: "Reshape")])
        #expect(m.graph.nodes.map(\.name) == ["y"])
    }

    @Test func aConstantPastTheSizeLimitIsOneSentence() {
        var b = ONNXBuilder(opset: 13)
        b.ints("shape", [2], [1 << 20, 1 << 10])
        b.node("ConstantOfShape", ["shape"], ["huge"])
        b.node("Add", ["x", "huge"], ["y"])
        b.output("y")
        #expect(modelError { try b.load() }
            == "/nonexistent/test.onnx: Node 'huge' (ConstantOfShape): its constant output [1048576, 1024] would hold more than the \(ConstantFolding.maxElements) values DeepScope evaluates at load (opset 13).")
    }

    @Test func badFoldsNameTheNode() {
        var gather = ONNXBuilder(opset: 13)
        gather.ints("v", [2], [4, 5]); gather.ints("i", [], [7])
        gather.node("Gather", ["v", "i"], ["g"])
        gather.node("Relu", ["x"], ["y"]); gather.output("y")
        #expect(modelError { try gather.load() }.contains("Node 'g' (Gather): index 7 is outside dimension 0 of size 2"))

        var division = ONNXBuilder(opset: 13)
        division.ints("a", [1], [4]); division.ints("z", [1], [0])
        division.node("Div", ["a", "z"], ["d"])
        division.node("Relu", ["x"], ["y"]); division.output("y")
        #expect(modelError { try division.load() }.contains("Node 'd' (Div): it divides the integer 4 by 0"))

        // An op the engine runs only on constants, reached by a computed tensor.
        var computed = ONNXBuilder(opset: 13)
        computed.node("Neg", ["x"], ["y"]); computed.output("y")
        #expect(modelError { try computed.load() } == "/nonexistent/test.onnx: Node 'y' uses op 'Neg' (opset 13), which DeepScope does not support.")
    }

    @Test func extremeIntegersNeitherTrapNorAllocate() throws {
        var range = ONNXBuilder(opset: 13)
        range.ints("lo", [], [Int64.min]); range.ints("hi", [], [Int64.max]); range.ints("one", [], [1])
        range.node("Range", ["lo", "hi", "one"], ["r"])
        range.node("Relu", ["x"], ["y"]); range.output("y")
        #expect(modelError { try range.load() }.contains("Node 'r' (Range): its range would hold more than"))

        // Int64.min / -1 wraps instead of trapping; a step of Int64.max takes the first element.
        let (_, c) = try scaled(shape: [1, 1, 1, 1]) { b in
            b.ints("min", [1], [Int64.min]); b.ints("m1", [1], [-1])
            b.node("Div", ["min", "m1"], ["q"])
            b.ints("zero", [1], [0]); b.ints("end", [1], [Int64.max]); b.ints("big", [1], [Int64.max])
            b.node("Slice", ["q", "zero", "end", "zero", "big"], ["first"])
            b.node("Equal", ["first", "min"], ["same"])
            b.node("Cast", ["same"], ["sf"], [attr("to", int: 1)])
            b.ints("shape", [4], [1, 1, 1, 1])
            b.node("Reshape", ["sf", "shape"], ["c"])
        }
        #expect(c == [1])
    }

    @Test func aModelWithoutAnImageInputSaysWhichInputsItHas() {
        var b = ONNXBuilder(opset: 13, input: "tokens", shape: [1, 16])
        b.model.graph.input[0].type.tensorType.elemType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        b.model.graph.input.append(ONNXBuilder.valueInfo("mask", shape: [1, nil]))
        b.node("Relu", ["mask"], ["y"]); b.output("y")
        #expect(modelError { try b.load() }
            == "/nonexistent/test.onnx: the graph has no 4-D FLOAT image input; its inputs are 'tokens' (INT64 [1, 16]), 'mask' (FLOAT [1, ?]).")
    }

    @Test func theImageIsTheFourDimensionalFloatInput() throws {
        var b = ONNXBuilder(opset: 13, input: "scale", shape: [1])
        b.model.graph.input.append(ONNXBuilder.valueInfo("image", shape: [1, 3, 4, 4]))
        b.node("Relu", ["image"], ["y"]); b.output("y")
        let m = try b.load()
        #expect(m.graph.values[m.graph.input].name == "image")
    }

    @Test func anNHWCInputReadOtherwiseStaysAsDeclared() throws {
        // Not every reader transposes it: the input is taken as declared.
        var b = ONNXBuilder(opset: 13, shape: [1, 8, 8, 3])
        b.node("Transpose", ["x"], ["t"], [attr("perm", ints: [0, 3, 1, 2])])
        b.node("Relu", ["x"], ["r"])
        b.output("t", "r")
        let m = try b.load()
        #expect(m.graph.values[m.graph.input].shape == Shape([1, 8, 8, 3]))
        guard case .transpose = try #require(m.node("t")).op else { Issue.record("t is not a Transpose"); return }
    }

    @Test func splitFormsAcrossOpsets() throws {
        for opset in [11, 13, 18] {
            var b = ONNXBuilder(opset: opset, shape: [1, 3, 5, 4])
            switch opset {
            case 11: b.node("Split", ["x"], ["a", "b"], [attr("axis", int: 1), attr("split", ints: [1, 2])])
            case 13: b.ints("s", [2], [1, 2]); b.node("Split", ["x", "s"], ["a", "b"], [attr("axis", int: 1)])
            default: b.node("Split", ["x"], ["a", "b"], [attr("axis", int: 2), attr("num_outputs", int: 2)])
            }
            b.output("a", "b")
            let m = try b.load()
            if opset < 18 {
                #expect(m.shape("a") == Shape([1, 1, 5, 4]) && m.shape("b") == Shape([1, 2, 5, 4]))
            } else {
                #expect(m.shape("a") == Shape([1, 3, 3, 4]) && m.shape("b") == Shape([1, 3, 2, 4]))
            }
        }
        var bad = ONNXBuilder(opset: 13, shape: [1, 3, 5, 4])
        bad.ints("s", [2], [1, 1])
        bad.node("Split", ["x", "s"], ["a", "b"], [attr("axis", int: 1)])
        bad.output("a")
        #expect(modelError { try bad.load() }.contains("its split sizes [1, 1] do not add up to the 3 elements of axis 1"))
    }
}
