/// Single-precision matrix multiplication C = A · B (+ C) for the engine's convolutions and dense
/// layers, with packing into caller-provided buffers, so a multiplication never allocates.
///
/// The register kernel computes a 6×16 tile of C with twelve 8-wide FMA accumulators (AVX2); the
/// operands are packed so that each step of the inner loop reads 6 consecutive values of A and 16
/// consecutive values of B. A (the weights) is packed once, when the network is planned, into
/// panels of 6 rows; B (the activations) is packed per task into panels of 16 columns, one block of
/// `kc` rows at a time so the packed block stays in L2.
enum Gemm {
    static let mr = 6
    static let nr = 16
    /// Rows of K packed at a time.
    static let kc = 256

    /// Floats of a packed copy of an M×K matrix A.
    static func packedACount(m: Int, k: Int) -> Int { ((m + mr - 1) / mr) * mr * k }

    /// Floats of scratch `multiply` needs for `ncols` columns.
    static func packedBCount(ncols: Int) -> Int { kc * ((ncols + nr - 1) / nr) * nr }

    /// Packs row-major A [m, k] (leading dimension lda) into panels of 6 rows: panel p holds, for
    /// each kk, A[6p..<6p+6, kk] (zero past row m). Within a panel, K is split in blocks of `kc`,
    /// each block contiguous, in the order `multiply` walks them.
    static func packA(_ a: UnsafePointer<Float>, lda: Int, m: Int, k: Int, into dst: UnsafeMutablePointer<Float>) {
        packA(a, rowStride: lda, columnStride: 1, m: m, k: k, into: dst)
    }

    /// `packA` for a matrix with any strides: element (i, j) is `a[i * rowStride + j * columnStride]`
    /// (a transposed matrix is packed by swapping the strides).
    static func packA(_ a: UnsafePointer<Float>, rowStride: Int, columnStride: Int, m: Int, k: Int,
                      into dst: UnsafeMutablePointer<Float>) {
        var o = 0
        var k0 = 0
        while k0 < k {
            let kb = min(kc, k - k0)
            for p in stride(from: 0, to: m, by: mr) {
                for kk in 0..<kb {
                    for r in 0..<mr {
                        dst[o] = p + r < m ? a[(p + r) * rowStride + (k0 + kk) * columnStride] : 0
                        o += 1
                    }
                }
            }
            k0 += kb
        }
    }

    /// C[rows, ncols] (leading dimension ldc) = A · B, or += when `accumulate`.
    ///
    /// - Parameters:
    ///   - packedA: the whole of A packed by `packA` (m rows in total).
    ///   - row0, rows: which rows of A (and C) to compute; `row0` is a multiple of 6.
    ///   - b: row-major B [k, ncols] with leading dimension ldb.
    ///   - scratch: `packedBCount(ncols:)` floats.
    static func multiply(packedA: UnsafePointer<Float>, m: Int, k: Int, row0: Int, rows: Int,
                         b: UnsafePointer<Float>, ldb: Int, ncols: Int,
                         c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                         scratch: UnsafeMutablePointer<Float>) {
        let panelsA = (m + mr - 1) / mr
        var k0 = 0
        while k0 < k {
            let kb = min(kc, k - k0)
            packB(b + k0 * ldb, ldb: ldb, k: kb, ncols: ncols, into: scratch)
            // A's block for this k0: all panels, each kb×6.
            let aBlock = packedA + k0 * panelsA * mr
            let add = accumulate || k0 > 0
            for p in stride(from: row0, to: row0 + rows, by: mr) {
                let aPanel = aBlock + (p / mr) * kb * mr
                let prow = min(mr, row0 + rows - p)
                for q in stride(from: 0, to: ncols, by: nr) {
                    let qcol = min(nr, ncols - q)
                    kernel(k: kb, a: aPanel, b: UnsafePointer(scratch + (q / nr) * kb * nr),
                           c: c + (p - row0) * ldc + q, ldc: ldc, rows: prow, cols: qcol, accumulate: add)
                }
            }
            k0 += kb
        }
    }

    /// Packs B [k, ncols] into panels of 16 columns, zero-padded past ncols.
    @inline(__always)
    static func packB(_ b: UnsafePointer<Float>, ldb: Int, k: Int, ncols: Int, into dst: UnsafeMutablePointer<Float>) {
        var q = 0
        var o = dst
        while q < ncols {
            let n = min(nr, ncols - q)
            if n == nr {
                for kk in 0..<k {
                    let src = UnsafeRawPointer(b + kk * ldb + q)
                    let raw = UnsafeMutableRawPointer(o + kk * nr)
                    raw.storeBytes(of: src.loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
                    (raw + 32).storeBytes(of: (src + 32).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
                }
            } else {
                for kk in 0..<k {
                    let src = b + kk * ldb + q
                    let d = o + kk * nr
                    for j in 0..<n { d[j] = src[j] }
                    for j in n..<nr { d[j] = 0 }
                }
            }
            o += k * nr
            q += nr
        }
    }

    /// The 6×16 register tile: C[0..<rows, 0..<cols] (+)= Σ_kk A[:, kk] ⊗ B[kk, :].
    @inline(__always)
    static func kernel(k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                       c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, accumulate: Bool) {
        typealias V = SIMD8<Float>
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
        var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
        var pa = a
        var pb = UnsafeRawPointer(b)
        for _ in 0..<k {
            let b0 = pb.load(as: V.self)
            let b1 = (pb + 32).load(as: V.self)
            var x = V(repeating: pa[0]); c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1)
            x = V(repeating: pa[1]); c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1)
            x = V(repeating: pa[2]); c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1)
            x = V(repeating: pa[3]); c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1)
            x = V(repeating: pa[4]); c40 = c40.addingProduct(x, b0); c41 = c41.addingProduct(x, b1)
            x = V(repeating: pa[5]); c50 = c50.addingProduct(x, b0); c51 = c51.addingProduct(x, b1)
            pa += 6
            pb += 64
        }
        if rows == mr && cols == nr {
            @inline(__always) func store(_ r: Int, _ v0: V, _ v1: V) {
                let p = UnsafeMutableRawPointer(c + r * ldc)
                if accumulate {
                    p.storeBytes(of: p.loadUnaligned(as: V.self) + v0, as: V.self)
                    (p + 32).storeBytes(of: (p + 32).loadUnaligned(as: V.self) + v1, as: V.self)
                } else {
                    p.storeBytes(of: v0, as: V.self)
                    (p + 32).storeBytes(of: v1, as: V.self)
                }
            }
            store(0, c00, c01); store(1, c10, c11); store(2, c20, c21)
            store(3, c30, c31); store(4, c40, c41); store(5, c50, c51)
            return
        }
        // Edge tile: spill to the stack, copy what exists.
        withUnsafeTemporaryAllocation(of: V.self, capacity: 12) { t in
            t[0] = c00; t[1] = c01; t[2] = c10; t[3] = c11; t[4] = c20; t[5] = c21
            t[6] = c30; t[7] = c31; t[8] = c40; t[9] = c41; t[10] = c50; t[11] = c51
            let f = UnsafeRawPointer(t.baseAddress!).assumingMemoryBound(to: Float.self)
            for r in 0..<rows {
                let row = c + r * ldc
                for j in 0..<cols {
                    row[j] = accumulate ? row[j] + f[r * nr + j] : f[r * nr + j]
                }
            }
        }
    }
}
