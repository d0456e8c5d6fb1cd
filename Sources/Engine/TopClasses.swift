// The best classes of a classifier's output, with their probabilities: one implementation for
// `classify`, the live pipeline's top-1 and the window's top-5.

import Foundation

/// One output class and its probability.
public struct ClassScore: Sendable, Equatable {
    /// The output index (the class).
    public var index: Int
    /// Its probability: the output itself where the network ends in a Softmax, else the softmax
    /// of the output.
    public var probability: Float

    /// Class 0 at probability 0: what a ranking buffer holds before it is written.
    public static let zero = ClassScore(index: 0, probability: 0)
}

/// Ranking a classifier's output.
public enum TopClasses {
    /// Whether `output` of `graph` is already a probability (the value of a Softmax node).
    public static func isProbability(_ output: Int, in graph: Graph) -> Bool {
        if let node = graph.node(producing: output), case .softmax = node.op { return true }
        return false
    }

    /// Writes the `best.count` largest of `scores` into `best`, best first (among equal scores the
    /// lower index first), with their probabilities: the scores themselves when `isProbability`,
    /// else their softmax over all of `scores`. Allocates nothing.
    /// - Returns: how many were written, `min(best.count, scores.count)`.
    @discardableResult
    public static func write(_ scores: UnsafeBufferPointer<Float>, isProbability: Bool,
                             into best: UnsafeMutableBufferPointer<ClassScore>) -> Int {
        let k = min(best.count, scores.count)
        guard k > 0 else { return 0 }
        // Insertion into a sorted prefix: k is small (1, 5, --top), the output long (1000).
        var n = 0
        for i in 0..<scores.count {
            let s = scores[i]
            var j: Int
            if n < k {
                j = n
                n += 1
            } else if s > best[k - 1].probability {
                j = k - 1
            } else {
                continue
            }
            while j > 0 && best[j - 1].probability < s {
                best[j] = best[j - 1]
                j -= 1
            }
            best[j] = ClassScore(index: i, probability: s)
        }
        guard !isProbability else { return k }
        let peak = best[0].probability
        var denominator: Float = 0
        for i in 0..<scores.count { denominator += expf(scores[i] - peak) }
        for r in 0..<k { best[r].probability = expf(best[r].probability - peak) / denominator }
        return k
    }

    /// The `count` best classes of `scores` (see `write`), as an array.
    public static func best(_ scores: UnsafeBufferPointer<Float>, count: Int, isProbability: Bool) -> [ClassScore] {
        var out = [ClassScore](repeating: .zero, count: max(0, min(count, scores.count)))
        out.withUnsafeMutableBufferPointer { _ = write(scores, isProbability: isProbability, into: $0) }
        return out
    }
}
