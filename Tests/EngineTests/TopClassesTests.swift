import Engine
import Foundation
import Testing

@Suite("TopClasses")
struct TopClassesTests {
    /// The plain definition: softmax over all scores, then a stable sort by probability.
    private func reference(_ scores: [Float], _ k: Int) -> [(index: Int, probability: Float)] {
        let peak = scores.max()!
        let e = scores.map { expf($0 - peak) }
        let sum = e.reduce(0, +)
        let order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        return order.prefix(k).map { ($0, e[$0] / sum) }
    }

    @Test("the k best, best first, with their softmax probabilities; ties go to the lower index")
    func ranksRawScores() {
        var rng = SystemRandomNumberGenerator()
        for k in [1, 3, 5, 12] {
            var scores = (0..<1000).map { _ in Float.random(in: -8...8, using: &rng) }
            scores[17] = 20
            scores[400] = 20   // a tie with 17 for first place
            let best = scores.withUnsafeBufferPointer { TopClasses.best($0, count: k, isProbability: false) }
            let expected = reference(scores, k)
            #expect(best.map(\.index) == expected.map(\.index))
            for (a, b) in zip(best, expected) { #expect(abs(a.probability - b.probability) <= 1e-6 * max(1, b.probability)) }
            #expect(best[0].index == 17)
        }
    }

    @Test("probabilities are passed through when the network ends in a Softmax; k is capped by the output")
    func passesProbabilitiesThrough() {
        let probs: [Float] = [0.1, 0.6, 0.3]
        let best = probs.withUnsafeBufferPointer { TopClasses.best($0, count: 5, isProbability: true) }
        #expect(best.map(\.index) == [1, 2, 0])
        #expect(best.map(\.probability) == [0.6, 0.3, 0.1])
        let none = [Float]().withUnsafeBufferPointer { TopClasses.best($0, count: 5, isProbability: false) }
        #expect(none.isEmpty)
    }

    @Test("a one-slot buffer gets the top class, as the live pipeline uses it")
    func topOne() {
        let scores: [Float] = [1, 3, 2]
        var top = ClassScore.zero
        let n = withUnsafeMutablePointer(to: &top) { p in
            scores.withUnsafeBufferPointer {
                TopClasses.write($0, isProbability: false, into: UnsafeMutableBufferPointer(start: p, count: 1))
            }
        }
        #expect(n == 1)
        #expect(top.index == 1)
        let expected = 1 / (expf(1 - 3) + 1 + expf(2 - 3))
        #expect(top.probability == expected)
    }
}
