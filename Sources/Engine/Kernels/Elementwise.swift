import Foundation

/// Elementwise kernels over flat ranges, so callers can split them into tasks.
enum Elementwise {
    @inline(__always) static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        Epilogue.clamp(x, y, n, bias: 0, lo: 0, hi: .infinity)
    }

    @inline(__always) static func clip(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, lo: Float, hi: Float) {
        Epilogue.clamp(x, y, n, bias: 0, lo: lo, hi: hi)
    }

    @inline(__always) static func leakyRelu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, alpha: Float) {
        for i in 0..<n { let v = x[i]; y[i] = v > 0 ? v : v * alpha }
    }

    @inline(__always) static func sigmoid(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { y[i] = 1 / (1 + expf(-x[i])) }
    }

    @inline(__always) static func tanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { y[i] = tanhf(x[i]) }
    }
}

/// A binary elementwise operation with NumPy broadcasting, planned for fixed shapes.
///
/// The common cases run as contiguous loops: equal shapes, a scalar operand, and a per-channel
/// operand ([C, 1, 1] against NCHW, as in a Mul by a squeeze-excite scale or a bias Add). Anything
/// else walks indices through broadcast strides.
struct BroadcastPlan {
    enum Kind { case same, scalarB, scalarA, channelB, channelA, general }
    let kind: Kind
    let count: Int
    let inner: Int        // elements per channel for the channel cases
    let channels: Int
    let outDims: [Int]
    let aStrides: [Int], bStrides: [Int]

    init(a: Shape, b: Shape, out: Shape) {
        count = out.count
        outDims = out.dims
        func stridesFor(_ s: Shape) -> [Int] {
            let pad = out.rank - s.rank
            let own = s.strides
            return (0..<out.rank).map { i in i < pad ? 0 : (s[i - pad] == 1 ? 0 : own[i - pad]) }
        }
        aStrides = stridesFor(a)
        bStrides = stridesFor(b)
        func channelOf(_ s: Shape) -> Int? {
            // A shape whose only non-1 dimension is out's dimension 1 of a rank-4 output.
            guard out.rank == 4 else { return nil }
            let pad = out.rank - s.rank
            let dims = (0..<4).map { $0 < pad ? 1 : s[$0 - pad] }
            return (dims[0] == 1 && dims[2] == 1 && dims[3] == 1 && dims[1] == out[1]) ? out[1] : nil
        }
        inner = out.rank == 4 ? out[2] * out[3] : 1
        if a.count == count && b.count == count {
            kind = .same; channels = 0
        } else if b.count == 1 && a.count == count {
            kind = .scalarB; channels = 0
        } else if a.count == 1 && b.count == count {
            kind = .scalarA; channels = 0
        } else if a.count == count, let c = channelOf(b) {
            kind = .channelB; channels = c
        } else if b.count == count, let c = channelOf(a) {
            kind = .channelA; channels = c
        } else {
            kind = .general; channels = 0
        }
    }

    /// Computes output elements `start..<end` of `F.apply(a, b)`.
    func run<F: BinaryFunction>(_: F.Type, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                _ y: UnsafeMutablePointer<Float>, start: Int, end: Int) {
        switch kind {
        case .same:
            for i in start..<end { y[i] = F.apply(a[i], b[i]) }
        case .scalarB:
            let v = b[0]
            for i in start..<end { y[i] = F.apply(a[i], v) }
        case .scalarA:
            let u = a[0]
            for i in start..<end { y[i] = F.apply(u, b[i]) }
        case .channelB, .channelA:
            var i = start
            while i < end {
                let ch = (i / inner) % channels
                let stop = min(end, (i / inner + 1) * inner)
                if kind == .channelB {
                    let v = b[ch]
                    for j in i..<stop { y[j] = F.apply(a[j], v) }
                } else {
                    let u = a[ch]
                    for j in i..<stop { y[j] = F.apply(u, b[j]) }
                }
                i = stop
            }
        case .general:
            for i in start..<end {
                let (ia, ib) = sourceIndices(i)
                y[i] = F.apply(a[ia], b[ib])
            }
        }
    }

    /// The flat indices into each operand of output element `i`.
    @inline(__always) func sourceIndices(_ i: Int) -> (Int, Int) {
        var rem = i, ia = 0, ib = 0
        for d in stride(from: outDims.count - 1, through: 0, by: -1) {
            let k = rem % outDims[d]
            rem /= outDims[d]
            ia += k * aStrides[d]
            ib += k * bStrides[d]
        }
        return (ia, ib)
    }
}
