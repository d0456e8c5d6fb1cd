import CBLAS

/// The linear dimension of a set of points: the eigenvalues of their covariance, and how many
/// principal components hold a given share of the variance (Ansuini et al. contrast it with the
/// intrinsic dimension: the data lie on curved manifolds, so this count is much larger).
///
/// Computed from the Gram matrix, doubly centred (G − row means − column means + the grand mean),
/// whose eigenvalues are the covariance's nonzero ones times N: N × N work whatever D is. The
/// eigenvalues come from LAPACK's `dsyev` (in OpenBLAS).
public struct PCASpectrum: Sendable {
    /// The variances along the principal components, largest first (at most N − 1 are nonzero).
    public let variances: [Double]

    public init(gram: GramMatrix, subset: [Int]) {
        let n = subset.count
        guard n >= 2 else { variances = []; return }
        var c = [Double](repeating: 0, count: n * n)
        var rowMean = [Double](repeating: 0, count: n)
        for (a, i) in subset.enumerated() {
            for (b, j) in subset.enumerated() { c[a * n + b] = gram[i, j] }
            rowMean[a] = c[(a * n)..<(a * n + n)].reduce(0, +) / Double(n)
        }
        let grand = rowMean.reduce(0, +) / Double(n)
        for a in 0..<n {
            for b in 0..<n { c[a * n + b] += grand - rowMean[a] - rowMean[b] }
        }
        var eigen = [Double](repeating: 0, count: n)
        var size = Int32(n), lda = Int32(n), info: Int32 = 0
        var query = 0.0, lwork: Int32 = -1
        dsyev_("N", "U", &size, &c, &lda, &eigen, &query, &lwork, &info)   // asks for the workspace size
        lwork = Int32(max(query, Double(3 * n)))
        var work = [Double](repeating: 0, count: Int(lwork))
        dsyev_("N", "U", &size, &c, &lda, &eigen, &work, &lwork, &info)
        // info ≠ 0 means the iteration did not converge: no spectrum rather than a wrong one.
        variances = info == 0 ? eigen.reversed().map { max($0, 0) / Double(n) } : []
    }

    /// The fewest leading components whose variances add up to `fraction` of the total (0 when the
    /// points do not vary at all).
    public func components(holding fraction: Double) -> Int {
        let total = variances.reduce(0, +)
        guard total > 0 else { return 0 }
        var sum = 0.0
        for (k, v) in variances.enumerated() {
            sum += v
            if sum >= fraction * total - 1e-12 * total { return k + 1 }
        }
        return variances.count
    }
}
