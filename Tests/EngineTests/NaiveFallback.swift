import Engine

// The naive passes' cases for ops that ProjectionReference.swift's own switches do not list.
extension NaiveProjection {
    static func numericForward(_ op: Engine.Operation, inputs: [[Double]], shapes: [[Int]], output: [Int],
                               decisions: inout [Int]) -> [Double] {
        if let y = NaiveLayout.forward(op, x: inputs[0], input: shapes[0], output: output) { return y }
        preconditionFailure("the naive passes do not know \(op.kindName)")
    }

    static func numericBackward(_ op: Engine.Operation, inputs: [(value: Int, shape: [Int], data: [Float])],
                                output: [Int], gy: [Double], mode: ProjectionMode) -> [[Double]] {
        if let gx = NaiveLayout.backward(op, gy: gy, input: inputs[0].shape, output: output) { return [gx] }
        preconditionFailure("the naive passes do not know \(op.kindName)")
    }
}
