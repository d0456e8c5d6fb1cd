import Foundation
// The tests draw their numbers from the product's own seeded generator (`Support.SplitMix64`).
@_exported import Support

/// `count` floats uniformly distributed in `range`.
public func uniformFloats(_ count: Int, in range: ClosedRange<Float> = -1...1,
                          using rng: inout some RandomNumberGenerator) -> [Float] {
    (0..<count).map { _ in Float.random(in: range, using: &rng) }
}

/// `count` normally distributed floats (Box–Muller).
public func normalFloats(_ count: Int, mean: Float = 0, deviation: Float = 1,
                         using rng: inout some RandomNumberGenerator) -> [Float] {
    var out: [Float] = []
    out.reserveCapacity(count)
    while out.count < count {
        // u1 in (0, 1] so the logarithm stays finite.
        let u1 = 1 - Double(rng.next() >> 11) * 0x1p-53
        let u2 = Double(rng.next() >> 11) * 0x1p-53
        let r = (-2 * log(u1)).squareRoot()
        out.append(mean + deviation * Float(r * cos(2 * .pi * u2)))
        if out.count < count { out.append(mean + deviation * Float(r * sin(2 * .pi * u2))) }
    }
    return out
}

/// `count` small integers in `range`, as floats: inputs with many exact ties (for max-pool switches)
/// and sums that floating point computes exactly.
public func integerFloats(_ count: Int, in range: ClosedRange<Int>,
                          using rng: inout some RandomNumberGenerator) -> [Float] {
    (0..<count).map { _ in Float(Int.random(in: range, using: &rng)) }
}
