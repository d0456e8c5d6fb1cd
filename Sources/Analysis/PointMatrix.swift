/// N points of dimension D, one point per row, float32, row-major: a borrowed view (over a
/// `.npy` file's data, or the representations a pass over images collected).
public struct PointMatrix: @unchecked Sendable {
    public let base: UnsafePointer<Float>
    /// Points (rows).
    public let count: Int
    /// Coordinates per point (columns).
    public let dimension: Int

    public init(base: UnsafePointer<Float>, count: Int, dimension: Int) {
        precondition(count >= 0 && dimension >= 1, "a point matrix needs rows ≥ 0 and columns ≥ 1")
        self.base = base
        self.count = count
        self.dimension = dimension
    }

    /// Point `i`'s coordinates.
    public func row(_ i: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: base + i * dimension, count: dimension)
    }

    /// The squared Euclidean distance between points `i` and `j`, summed in double precision.
    public func squaredDistance(_ i: Int, _ j: Int) -> Double {
        let a = base + i * dimension, b = base + j * dimension
        var sum = 0.0
        for k in 0..<dimension {
            let d = Double(a[k]) - Double(b[k])
            sum += d * d
        }
        return sum
    }

    /// The first row of each group of identical rows, in order, and how many rows repeated an
    /// earlier one. Nearest-neighbour ratios are undefined at distance 0, so the estimators run on
    /// distinct points only (as Facco et al. prescribe).
    public func distinctRows() -> (rows: [Int], duplicates: Int) {
        var firstByHash: [Int: [Int]] = [:]
        var rows: [Int] = []
        let bytes = dimension * MemoryLayout<Float>.stride
        for i in 0..<count {
            let raw = UnsafeRawBufferPointer(start: base + i * dimension, count: bytes)
            var hasher = Hasher()
            hasher.combine(bytes: raw)
            let key = hasher.finalize()
            let earlier = firstByHash[key, default: []]
            if earlier.contains(where: { memcmp(base + $0 * dimension, base + i * dimension, bytes) == 0 }) { continue }
            firstByHash[key, default: []].append(i)
            rows.append(i)
        }
        return (rows, count - rows.count)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
