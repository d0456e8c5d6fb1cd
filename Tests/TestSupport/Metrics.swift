/// Error metrics for comparing a computed tensor with a reference.

/// `max |a − b| / max |b|`: the largest deviation relative to the reference's scale. Positions where
/// both hold the same value (infinities included) count as no deviation; a NaN on one side only, or
/// different lengths, give infinity. A reference that is all zeros makes this the absolute error.
public func maxRelativeError<A: Collection<Float>, B: Collection<Float>>(_ ours: A, _ reference: B) -> Float {
    guard ours.count == reference.count else { return .infinity }
    let scale = reference.reduce(Float(0)) { $1.isFinite ? max($0, abs($1)) : $0 }
    let deviation = maxAbsoluteError(ours, reference)
    return scale > 0 ? deviation / scale : deviation
}

/// `max |a − b|`, with the same conventions as `maxRelativeError`.
public func maxAbsoluteError<A: Collection<Float>, B: Collection<Float>>(_ ours: A, _ reference: B) -> Float {
    guard ours.count == reference.count else { return .infinity }
    var worst: Float = 0
    for (a, b) in zip(ours, reference) where a != b {
        let d = abs(a - b)
        if d.isNaN || d.isInfinite { return .infinity }
        worst = max(worst, d)
    }
    return worst
}

/// Index of the first position where two tensors differ by more than `tolerance` (absolute), or nil.
/// Useful in failure messages.
public func firstMismatch<A: Collection<Float>, B: Collection<Float>>(_ ours: A, _ reference: B,
                                                                       tolerance: Float = 0) -> Int? {
    for (i, (a, b)) in zip(ours, reference).enumerated() where a != b {
        if !(abs(a - b) <= tolerance) { return i }
    }
    return ours.count == reference.count ? nil : min(ours.count, reference.count)
}
