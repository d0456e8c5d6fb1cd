import Foundation

/// How activations become colours.
public struct GridStyle: Sendable, Equatable {
    public var colormap: Colormap.Kind
    /// Applied after normalizing to 0…1: t^gamma (1: linear; < 1 lifts faint activity).
    public var gamma: Float
    /// Per-channel boost b: each channel is scaled by (its max |value|)^−b before the layer's
    /// min–max normalization (0: none; 1: every channel to the same peak), as the toolbox did.
    public var boost: Float

    public init(colormap: Colormap.Kind = .gray, gamma: Float = 1, boost: Float = 0) {
        self.colormap = colormap
        self.gamma = gamma
        self.boost = boost
    }
}

/// Draws every channel of a [C, H, W] layer (or every unit of a [1, K] layer, one 1×1 tile each)
/// into a `TileGrid`. Holds its scratch, grown only when a layer needs more: drawing allocates
/// nothing in the steady state.
public final class ActivationGridRenderer: @unchecked Sendable {
    private var scales: [Float] = []
    private var levels: [UInt8] = []
    /// t quantized to 4096 steps → colormap index, rebuilt when gamma changes.
    private var gammaTable = [UInt8](repeating: 0, count: 4096)
    private var tableGamma: Float = .nan
    /// The colormap as packed RGBA words, and which map it holds.
    private var palette = [UInt32](repeating: 0, count: 256)
    private var paletteKind: Colormap.Kind?
    /// For each pixel column of a tile, the map column it shows (tiles share one size).
    private var columns: [Int] = []

    public init() {}

    /// The layer-wide range after boosting, as the grid maps it (lo → 0, hi → 1).
    public private(set) var range: (lo: Float, hi: Float) = (0, 0)

    /// Draws the tiles of `page` of `grid` from `values` (C·H·W floats, channel-major).
    public func draw(_ values: UnsafeBufferPointer<Float>, channels c: Int, height h: Int, width w: Int,
                     grid: TileGrid, page: Int, style: GridStyle, on canvas: Canvas) {
        precondition(values.count >= c * h * w, "\(values.count) activations for a \(c)×\(h)×\(w) layer")
        guard c > 0, h > 0, w > 0 else { return }
        prepare(values, channels: c, plane: h * w, style: style)
        if paletteKind != style.colormap {
            let table = Colormap.named(style.colormap).table
            for i in 0..<256 {
                palette[i] = UInt32(table[i * 3]) | UInt32(table[i * 3 + 1]) << 8 | UInt32(table[i * 3 + 2]) << 16 | 0xFF00_0000
            }
            paletteKind = style.colormap
        }
        let (lo, hi) = range
        let span = hi - lo
        if levels.count < h * w { levels = [UInt8](repeating: 0, count: h * w) }
        let plane = h * w
        for ch in grid.range(page: page) {
            let tile = grid.rect(of: ch, page: page)
            let scale = scales[ch]
            // Colour index of every map position, then nearest-neighbour scaling into the tile.
            levels.withUnsafeMutableBufferPointer { lv in
                gammaTable.withUnsafeBufferPointer { gt in
                    for i in 0..<plane {
                        let v = values[ch * plane + i] * scale
                        let t = span > 0 ? (v - lo) / span : 0
                        let q = t.isNaN ? 0 : Int(max(0, min(1, t)) * 4095 + 0.5)
                        lv[i] = gt[q]
                    }
                }
            }
            let r = tile.intersection(canvas.clip).intersection(canvas.bounds)
            guard !r.isEmpty else { continue }
            // Nearest-neighbour scaling: a column table per tile, and each map row drawn once then
            // copied into the rows that repeat it.
            if columns.count < tile.width { columns = [Int](repeating: 0, count: tile.width) }
            for x in 0..<tile.width { columns[x] = min(w - 1, x * w / tile.width) }
            levels.withUnsafeBufferPointer { lv in
                palette.withUnsafeBufferPointer { pal in
                    columns.withUnsafeBufferPointer { cols in
                        var lastSource = -1, lastRow: UnsafeMutablePointer<UInt8>?
                        let skip = r.x - tile.x
                        for y in r.y..<r.maxY {
                            let sy = min(h - 1, (y - tile.y) * h / tile.height)
                            let row = canvas.pixels + (y * canvas.width + r.x) * 4
                            if sy == lastSource, let previous = lastRow {
                                row.update(from: previous, count: r.width * 4)
                                continue
                            }
                            row.withMemoryRebound(to: UInt32.self, capacity: r.width) { p in
                                let base = sy * w
                                for i in 0..<r.width { p[i] = pal[Int(lv[base + cols[skip + i]])] }
                            }
                            lastSource = sy
                            lastRow = row
                        }
                    }
                }
            }
        }
    }

    /// Per-channel boost factors and the layer's range after boosting.
    private func prepare(_ values: UnsafeBufferPointer<Float>, channels c: Int, plane: Int, style: GridStyle) {
        if scales.count < c { scales = [Float](repeating: 1, count: c) }
        if style.gamma != tableGamma {
            let g = style.gamma > 0 && style.gamma.isFinite ? style.gamma : 1
            for i in 0..<4096 {
                let t = Float(i) / 4095
                gammaTable[i] = UInt8(max(0, min(255, (powf(t, g) * 255).rounded())))
            }
            tableGamma = style.gamma
        }
        var lo = Float.infinity, hi = -Float.infinity
        for ch in 0..<c {
            var peak: Float = 0
            var cl = Float.infinity, chh = -Float.infinity
            for i in 0..<plane {
                let v = values[ch * plane + i]
                peak = max(peak, abs(v))
                cl = min(cl, v); chh = max(chh, v)
            }
            let s: Float = style.boost != 0 && peak > 0 && peak.isFinite ? powf(peak, -style.boost) : 1
            scales[ch] = s
            lo = min(lo, cl * s); hi = max(hi, chh * s)
        }
        range = lo <= hi ? (lo, hi) : (0, 0)
    }
}

/// Minimum and maximum of a buffer (0, 0 when empty), ignoring NaN.
public func valueRange(_ values: UnsafeBufferPointer<Float>) -> (min: Float, max: Float) {
    var lo = Float.infinity, hi = -Float.infinity
    for v in values where !v.isNaN { lo = min(lo, v); hi = max(hi, v) }
    return lo <= hi ? (lo, hi) : (0, 0)
}
