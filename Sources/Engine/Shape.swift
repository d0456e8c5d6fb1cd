/// The shape of a tensor: its dimensions, outermost first. Image tensors are NCHW.
public struct Shape: Hashable, Sendable, CustomStringConvertible {
    public var dims: [Int]

    public init(_ dims: [Int]) { self.dims = dims }

    public var rank: Int { dims.count }
    /// Number of elements (1 for a scalar).
    public var count: Int { dims.reduce(1, *) }
    public subscript(i: Int) -> Int { dims[i] }

    /// `[1, 3, 224, 224]`.
    public var description: String { "[" + dims.map(String.init).joined(separator: ", ") + "]" }

    /// Row-major strides, in elements.
    public var strides: [Int] {
        var s = [Int](repeating: 1, count: rank)
        var acc = 1
        for i in stride(from: rank - 1, through: 0, by: -1) { s[i] = acc; acc *= dims[i] }
        return s
    }

    /// Channels, height and width of an NCHW tensor; a rank-2 [N, K] tensor counts as K channels of 1×1.
    public var chw: (c: Int, h: Int, w: Int) {
        switch rank {
        case 4: return (dims[1], dims[2], dims[3])
        case 3: return (dims[0], dims[1], dims[2])
        case 2: return (dims[1], 1, 1)
        case 1: return (dims[0], 1, 1)
        default: return (count, 1, 1)
        }
    }
}
