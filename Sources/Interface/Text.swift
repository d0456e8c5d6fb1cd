import Visualization

/// One character's coverage bitmap and metrics, in pixels.
public struct Glyph: Sendable, Equatable {
    /// Where the bitmap starts in the atlas's `alpha` storage; `width` bytes per row.
    public var offset: Int
    public var width: Int
    public var height: Int
    /// The bitmap's top-left relative to the pen: x right of it, y below the line's top.
    public var left: Int
    public var top: Int
    /// How far the pen moves after this character.
    public var advance: Int

    public init(offset: Int, width: Int, height: Int, left: Int, top: Int, advance: Int) {
        self.offset = offset; self.width = width; self.height = height
        self.left = left; self.top = top; self.advance = advance
    }
}

/// A font rasterized once at one size: an 8-bit coverage bitmap per character plus metrics.
/// Filled from a real font by `FontLoader` (SDL2_ttf); tests can build one by hand.
/// Characters without a glyph draw as `fallback` (a "?" by default) or advance by a space.
public final class GlyphAtlas: @unchecked Sendable {
    /// Distance between baselines.
    public let lineHeight: Int
    /// Pixels from the line's top to the baseline.
    public let ascent: Int
    public private(set) var alpha: [UInt8] = []
    /// Glyphs of Unicode scalars below 0x250 (Latin), indexed directly.
    private var low: [Glyph?] = Array(repeating: nil, count: 0x250)
    /// Glyphs of other scalars (arrows, dashes, ×, …).
    private var high: [UInt32: Glyph] = [:]
    public var fallback: UnicodeScalar = "?"

    public init(lineHeight: Int, ascent: Int) {
        self.lineHeight = lineHeight
        self.ascent = ascent
    }

    /// Adds (or replaces) the glyph of `scalar`: `bitmap` holds `width * height` coverage bytes.
    public func add(_ scalar: UnicodeScalar, bitmap: [UInt8], width: Int, height: Int, left: Int, top: Int, advance: Int) {
        precondition(bitmap.count == width * height, "a \(width)×\(height) glyph needs \(width * height) bytes")
        let g = Glyph(offset: alpha.count, width: width, height: height, left: left, top: top, advance: advance)
        alpha.append(contentsOf: bitmap)
        if scalar.value < UInt32(low.count) { low[Int(scalar.value)] = g } else { high[scalar.value] = g }
    }

    /// The glyph drawn for `scalar`.
    @inline(__always)
    public func glyph(_ scalar: UnicodeScalar) -> Glyph? {
        if scalar.value < UInt32(low.count) { if let g = low[Int(scalar.value)] { return g } }
        else if let g = high[scalar.value] { return g }
        if scalar == " " { return nil }
        return scalar == fallback ? nil : glyph(fallback)
    }

    /// The advance of a space (or a third of the line height).
    public var spaceAdvance: Int { glyph(" ")?.advance ?? max(1, lineHeight / 3) }

    /// The width of `text` drawn on one line.
    public func width(of text: String) -> Int {
        var w = 0
        for s in text.unicodeScalars { w += glyph(s)?.advance ?? spaceAdvance }
        return w
    }

    /// The longest prefix of `text` (in scalars) that fits in `maxWidth` pixels.
    public func fittingCount(_ text: String, maxWidth: Int) -> Int {
        var w = 0, n = 0
        for s in text.unicodeScalars {
            w += glyph(s)?.advance ?? spaceAdvance
            if w > maxWidth { break }
            n += 1
        }
        return n
    }
}

/// Horizontal placement of a line of text in a rectangle.
public enum TextAlignment: Sendable { case left, center, right }

extension Canvas {
    /// Draws one line of `text` with its top at `y`, starting at `x`; returns the pen's end x.
    /// Text running past `maxWidth` is cut and ends in "…" when the atlas has it.
    @discardableResult
    public func draw(_ text: String, font: GlyphAtlas, x: Int, y: Int, color: Color, maxWidth: Int = .max) -> Int {
        var pen = x
        let ellipsis: UnicodeScalar = "\u{2026}"
        let needsCut = maxWidth != .max && font.width(of: text) > maxWidth
        let ellipsisWidth = needsCut ? (font.glyph(ellipsis)?.advance ?? 0) : 0
        let limit = needsCut ? x + maxWidth - ellipsisWidth : .max
        for s in text.unicodeScalars {
            let advance = font.glyph(s)?.advance ?? font.spaceAdvance
            if needsCut && pen + advance > limit { break }
            drawGlyph(s, font: font, x: pen, y: y, color: color)
            pen += advance
        }
        if needsCut, ellipsisWidth > 0 {
            drawGlyph(ellipsis, font: font, x: pen, y: y, color: color)
            pen += ellipsisWidth
        }
        return pen
    }

    /// Draws `text` aligned in `rect`, vertically centred on one line.
    @discardableResult
    public func draw(_ text: String, font: GlyphAtlas, in rect: Rect, color: Color, alignment: TextAlignment = .left) -> Int {
        let w = min(font.width(of: text), rect.width)
        let x: Int
        switch alignment {
        case .left: x = rect.x
        case .center: x = rect.x + (rect.width - w) / 2
        case .right: x = rect.maxX - w
        }
        let y = rect.y + (rect.height - font.lineHeight) / 2
        return draw(text, font: font, x: x, y: y, color: color, maxWidth: rect.maxX - x)
    }

    @inline(__always)
    func drawGlyph(_ s: UnicodeScalar, font: GlyphAtlas, x: Int, y: Int, color: Color) {
        guard let g = font.glyph(s), g.width > 0, g.height > 0 else { return }
        font.alpha.withUnsafeBufferPointer { a in
            blendMask(a.baseAddress! + g.offset, width: g.width, height: g.height, rowBytes: g.width,
                      at: x + g.left, y: y + g.top, color: color)
        }
    }
}

/// A small text buffer reused frame after frame, so labels can be built without allocating:
/// `reset()`, then `append` pieces, then draw `string`. Appending keeps the storage once it has
/// grown to the longest label.
public struct TextBuffer {
    public private(set) var string: String

    public init(capacity: Int = 256) {
        string = String()
        string.reserveCapacity(capacity)
    }

    public mutating func reset() { string.removeAll(keepingCapacity: true) }

    public mutating func append(_ s: String) { string.append(s) }

    /// Appends an integer in decimal.
    public mutating func append(_ v: Int) {
        if v < 0 { string.append("-") }
        var m = v.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[n] = UInt8(m % 10)
                m /= 10
                n += 1
            } while m > 0
            for i in stride(from: n - 1, through: 0, by: -1) {
                string.unicodeScalars.append(UnicodeScalar(48 + d[i]))
            }
        }
    }

    /// Appends `v` with `decimals` digits after the point (rounded), e.g. 3.14.
    public mutating func append(_ v: Float, decimals: Int) {
        guard v.isFinite else { string.append(v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf")); return }
        var scale = 1
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (Double(v) * Double(scale)).rounded()
        guard abs(scaled) < 9e15 else { string.append(v > 0 ? "huge" : "-huge"); return }
        var i = Int(scaled)
        if i < 0 { string.append("-"); i = -i }
        append(i / scale)
        if decimals > 0 {
            string.append(".")
            var frac = i % scale
            var div = scale / 10
            while div > 0 {
                string.unicodeScalars.append(UnicodeScalar(48 + UInt8(frac / div)))
                frac %= div
                div /= 10
            }
        }
    }
}
