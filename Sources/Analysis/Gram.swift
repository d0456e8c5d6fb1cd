import CBLAS

/// The Gram matrix G = X Xᵀ of a set of points (N × N, double precision, both triangles filled):
/// every pairwise squared distance is G_ii + G_jj − 2 G_ij, and the centred G has the nonzero
/// eigenvalues of the covariance (times N), so one matrix serves both the nearest-neighbour search
/// and the PCA spectrum.
///
/// Cost and memory: N² · D multiply-adds through OpenBLAS's `ssyrk` (the points are read once per
/// block of columns), and 8 N² bytes; for N = 2,000 points of D = 200,000 that is 8·10¹¹
/// multiply-adds (seconds on two cores) and 32 MB besides the points themselves.
public struct GramMatrix: Sendable {
    public let count: Int
    /// Row-major N × N.
    public private(set) var entries: [Double]

    /// Columns summed in float32 per `ssyrk` call before the block is added in double precision:
    /// it bounds the float rounding to sums of this many terms whatever D is.
    static let columnBlock = 4096

    public init(_ points: PointMatrix) {
        let n = points.count, d = points.dimension
        count = n
        entries = [Double](repeating: 0, count: n * n)
        guard n > 0 else { return }
        var block = [Float](repeating: 0, count: n * n)
        var start = 0
        while start < d {
            let width = min(Self.columnBlock, d - start)
            block.withUnsafeMutableBufferPointer { c in
                // C = A Aᵀ with A the N × width slice of the rows (leading dimension D).
                cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, Int32(n), Int32(width), 1,
                            points.base + start, Int32(d), 0, c.baseAddress!, Int32(n))
            }
            entries.withUnsafeMutableBufferPointer { g in
                for i in 0..<n {
                    for j in i..<n { g[i * n + j] += Double(block[i * n + j]) }
                }
            }
            start += width
        }
        entries.withUnsafeMutableBufferPointer { g in
            for i in 0..<n {
                for j in 0..<i { g[i * n + j] = g[j * n + i] }
            }
        }
    }

    public subscript(i: Int, j: Int) -> Double { entries[i * count + j] }

    /// The squared distance between points `i` and `j` from the Gram entries (never negative). Close
    /// points lose digits to cancellation here: callers recompute their final candidates exactly.
    @inline(__always) public func squaredDistance(_ i: Int, _ j: Int) -> Double {
        max(entries[i * count + i] + entries[j * count + j] - 2 * entries[i * count + j], 0)
    }
}
