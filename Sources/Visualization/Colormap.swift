/// A 256-entry RGB lookup table from a value in 0…1 to a colour.
public struct Colormap: Sendable, Equatable {
    public enum Kind: String, CaseIterable, Sendable {
        case gray, viridis
    }

    public let kind: Kind
    /// 256 × (r, g, b).
    public let table: [UInt8]

    public static let gray = Colormap(kind: .gray, stops: [(0, 0, 0), (255, 255, 255)])

    /// A perceptual, colour-blind-safe map from dark purple through blue and green to yellow. The
    /// table is interpolated from nine evenly spaced control colours of matplotlib's `viridis`
    /// (van der Walt & Smith), as published: #440154 #472D7B #3B528B #2C728E #21908C #27AD81
    /// #5DC863 #AADC32 #FDE725.
    public static let viridis = Colormap(kind: .viridis, stops: [
        (0x44, 0x01, 0x54), (0x47, 0x2D, 0x7B), (0x3B, 0x52, 0x8B), (0x2C, 0x72, 0x8E), (0x21, 0x90, 0x8C),
        (0x27, 0xAD, 0x81), (0x5D, 0xC8, 0x63), (0xAA, 0xDC, 0x32), (0xFD, 0xE7, 0x25),
    ])

    public static func named(_ kind: Kind) -> Colormap { kind == .gray ? .gray : .viridis }

    /// Linear interpolation between evenly spaced stops (at least two).
    init(kind: Kind, stops: [(Int, Int, Int)]) {
        precondition(stops.count >= 2, "a colormap needs two stops")
        self.kind = kind
        var t = [UInt8](repeating: 0, count: 256 * 3)
        let segments = Double(stops.count - 1)
        for i in 0..<256 {
            let position = Double(i) / 255 * segments
            let k = min(Int(position), stops.count - 2)
            let f = position - Double(k)
            let a = stops[k], b = stops[k + 1]
            t[i * 3] = UInt8((Double(a.0) + (Double(b.0) - Double(a.0)) * f).rounded())
            t[i * 3 + 1] = UInt8((Double(a.1) + (Double(b.1) - Double(a.1)) * f).rounded())
            t[i * 3 + 2] = UInt8((Double(a.2) + (Double(b.2) - Double(a.2)) * f).rounded())
        }
        table = t
    }

    /// The colour of `v` (clamped to 0…1; NaN is 0).
    @inline(__always)
    public func color(_ v: Float) -> Color {
        let i = v.isNaN ? 0 : Int(max(0, min(1, v)) * 255 + 0.5)
        return Color(table[i * 3], table[i * 3 + 1], table[i * 3 + 2])
    }
}
