import Imaging

/// An 8-bit straight-alpha colour.
public struct Color: Sendable, Equatable {
    public var r: UInt8, g: UInt8, b: UInt8, a: UInt8

    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8, _ a: UInt8 = 255) {
        self.r = r; self.g = g; self.b = b; self.a = a
    }

    /// `0xRRGGBB`, opaque.
    public init(hex: UInt32, alpha: UInt8 = 255) {
        self.init(UInt8((hex >> 16) & 0xFF), UInt8((hex >> 8) & 0xFF), UInt8(hex & 0xFF), alpha)
    }

    /// The same colour with another alpha.
    public func withAlpha(_ a: UInt8) -> Color { Color(r, g, b, a) }

    /// Each channel moved `t` (0…1) of the way towards `other` (alpha kept).
    public func mixed(with other: Color, _ t: Float) -> Color {
        func mix(_ x: UInt8, _ y: UInt8) -> UInt8 { UInt8(max(0, min(255, (Float(x) + (Float(y) - Float(x)) * t).rounded()))) }
        return Color(mix(r, other.r), mix(g, other.g), mix(b, other.b), a)
    }
}

/// An axis-aligned rectangle in pixels; empty when its width or height is ≤ 0.
public struct Rect: Sendable, Equatable, CustomStringConvertible {
    public var x: Int, y: Int, width: Int, height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }

    public static let zero = Rect(x: 0, y: 0, width: 0, height: 0)

    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var isEmpty: Bool { width <= 0 || height <= 0 }
    public var description: String { "\(width)×\(height) at (\(x), \(y))" }

    public func contains(x px: Int, y py: Int) -> Bool { px >= x && px < maxX && py >= y && py < maxY }

    /// The overlap of two rectangles (empty, with non-negative size, when they do not meet).
    public func intersection(_ o: Rect) -> Rect {
        let x0 = max(x, o.x), y0 = max(y, o.y)
        let x1 = min(maxX, o.maxX), y1 = min(maxY, o.maxY)
        return Rect(x: x0, y: y0, width: max(0, x1 - x0), height: max(0, y1 - y0))
    }

    /// Shrunk by `d` on every side (never to a negative size).
    public func inset(_ d: Int) -> Rect { inset(dx: d, dy: d) }

    public func inset(dx: Int, dy: Int) -> Rect {
        Rect(x: x + dx, y: y + dy, width: max(0, width - 2 * dx), height: max(0, height - 2 * dy))
    }

    /// The top `h` rows (clamped) and the rest below them.
    public func splitTop(_ h: Int) -> (top: Rect, rest: Rect) {
        let t = max(0, min(h, height))
        return (Rect(x: x, y: y, width: width, height: t), Rect(x: x, y: y + t, width: width, height: height - t))
    }

    /// The bottom `h` rows (clamped) and the rest above them.
    public func splitBottom(_ h: Int) -> (rest: Rect, bottom: Rect) {
        let b = max(0, min(h, height))
        return (Rect(x: x, y: y, width: width, height: height - b), Rect(x: x, y: maxY - b, width: width, height: b))
    }

    /// The left `w` columns (clamped) and the rest.
    public func splitLeft(_ w: Int) -> (left: Rect, rest: Rect) {
        let l = max(0, min(w, width))
        return (Rect(x: x, y: y, width: l, height: height), Rect(x: x + l, y: y, width: width - l, height: height))
    }

    /// The right `w` columns (clamped) and the rest.
    public func splitRight(_ w: Int) -> (rest: Rect, right: Rect) {
        let r = max(0, min(w, width))
        return (Rect(x: x, y: y, width: width - r, height: height), Rect(x: maxX - r, y: y, width: r, height: height))
    }

    /// The largest rectangle of aspect `w:h` centred in this one.
    public func fitted(aspectWidth w: Int, height h: Int) -> Rect {
        guard w > 0, h > 0, !isEmpty else { return Rect(x: x, y: y, width: 0, height: 0) }
        var fw = width, fh = width * h / w
        if fh > height { fh = height; fw = height * w / h }
        return Rect(x: x + (width - fw) / 2, y: y + (height - fh) / 2, width: fw, height: fh)
    }
}

/// An RGBA8 drawing surface, allocated once and reused: every drawing call clips to the canvas and
/// to `clip`, and none allocates. Blending is "source over" with straight alpha, the canvas staying
/// opaque.
public final class Canvas: @unchecked Sendable {
    public private(set) var width: Int
    public private(set) var height: Int
    /// `height` rows of `width * 4` bytes, R G B A.
    public private(set) var pixels: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Drawing outside this rectangle is ignored (the whole canvas by default).
    public var clip: Rect

    public init(width: Int, height: Int) {
        precondition(width >= 0 && height >= 0, "negative canvas size \(width)×\(height)")
        self.width = width
        self.height = height
        capacity = max(1, width * height * 4)
        pixels = .allocate(capacity: capacity)
        pixels.initialize(repeating: 0, count: capacity)
        clip = Rect(x: 0, y: 0, width: width, height: height)
    }

    deinit { pixels.deallocate() }

    public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    /// Changes the size; storage is reallocated only when it grows. Contents are unspecified after.
    public func resize(width w: Int, height h: Int) {
        precondition(w >= 0 && h >= 0, "negative canvas size \(w)×\(h)")
        if w * h * 4 > capacity {
            pixels.deallocate()
            capacity = w * h * 4
            pixels = .allocate(capacity: capacity)
            pixels.initialize(repeating: 0, count: capacity)
        }
        width = w
        height = h
        clip = bounds
    }

    /// The pixel at (x, y).
    public subscript(x: Int, y: Int) -> Color {
        precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel (\(x), \(y)) outside \(width)×\(height)")
        let p = pixels + (y * width + x) * 4
        return Color(p[0], p[1], p[2], p[3])
    }

    /// A copy as an image (allocates; for files and tests).
    public func image() -> RGBAImage {
        RGBAImage(width: width, height: height, pixels: Array(UnsafeBufferPointer(start: pixels, count: width * height * 4)))
    }

    /// Runs `body` with `clip` narrowed to `rect`, then restores it.
    @inlinable
    public func clipped(to rect: Rect, _ body: () -> Void) {
        let saved = clip
        clip = clip.intersection(rect)
        body()
        clip = saved
    }

    @inline(__always)
    private func region(_ r: Rect) -> Rect { r.intersection(clip).intersection(bounds) }

    @inline(__always)
    static func over(_ dst: UInt8, _ src: UInt8, _ a: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: (Int(src) * a + Int(dst) * (255 - a) + 127) / 255)
    }

    /// Fills a rectangle (blended when the colour is translucent).
    public func fill(_ rect: Rect, _ color: Color) {
        let r = region(rect)
        guard !r.isEmpty, color.a > 0 else { return }
        let a = Int(color.a)
        if a == 255 {
            let word = UInt32(color.r) | UInt32(color.g) << 8 | UInt32(color.b) << 16 | 0xFF00_0000
            for y in r.y..<r.maxY {
                (pixels + (y * width + r.x) * 4).withMemoryRebound(to: UInt32.self, capacity: r.width) {
                    $0.update(repeating: word, count: r.width)
                }
            }
            return
        }
        for y in r.y..<r.maxY {
            var p = pixels + (y * width + r.x) * 4
            for _ in 0..<r.width {
                p[0] = Canvas.over(p[0], color.r, a); p[1] = Canvas.over(p[1], color.g, a)
                p[2] = Canvas.over(p[2], color.b, a); p[3] = 255
                p += 4
            }
        }
    }

    /// Clears the whole canvas (ignoring `clip`) to an opaque colour.
    public func clear(_ color: Color) {
        let saved = clip
        clip = bounds
        fill(bounds, color.withAlpha(255))
        clip = saved
    }

    /// Draws a rectangle's outline `thickness` pixels wide, inside the rectangle.
    public func outline(_ rect: Rect, _ color: Color, thickness t: Int = 1) {
        guard !rect.isEmpty, t > 0 else { return }
        let t = min(t, (min(rect.width, rect.height) + 1) / 2)
        fill(Rect(x: rect.x, y: rect.y, width: rect.width, height: t), color)
        fill(Rect(x: rect.x, y: rect.maxY - t, width: rect.width, height: t), color)
        fill(Rect(x: rect.x, y: rect.y + t, width: t, height: rect.height - 2 * t), color)
        fill(Rect(x: rect.maxX - t, y: rect.y + t, width: t, height: rect.height - 2 * t), color)
    }

    /// Draws an interleaved RGB (3 bytes) or RGBA (4 bytes, straight alpha) image scaled into `dest`
    /// with nearest-neighbour sampling; `alpha` (0…255) dims the whole image over what is below.
    public func blit(_ src: UnsafePointer<UInt8>, width sw: Int, height sh: Int, channels: Int,
                     into dest: Rect, alpha: UInt8 = 255) {
        precondition(channels == 3 || channels == 4, "blit takes RGB or RGBA, not \(channels) channels")
        let r = region(dest)
        guard !r.isEmpty, sw > 0, sh > 0, alpha > 0 else { return }
        for y in r.y..<r.maxY {
            let sy = min(sh - 1, (y - dest.y) * sh / dest.height)
            var p = pixels + (y * width + r.x) * 4
            let row = src + sy * sw * channels
            for x in r.x..<r.maxX {
                let sx = min(sw - 1, (x - dest.x) * sw / dest.width)
                let s = row + sx * channels
                var a = Int(alpha)
                if channels == 4 { a = a * Int(s[3]) / 255 }
                if a == 255 {
                    p[0] = s[0]; p[1] = s[1]; p[2] = s[2]
                } else if a > 0 {
                    p[0] = Canvas.over(p[0], s[0], a); p[1] = Canvas.over(p[1], s[1], a); p[2] = Canvas.over(p[2], s[2], a)
                }
                p[3] = 255
                p += 4
            }
        }
    }

    /// Blends `color` through an 8-bit coverage mask (a glyph) whose top-left lands at (x, y).
    public func blendMask(_ mask: UnsafePointer<UInt8>, width mw: Int, height mh: Int, rowBytes: Int,
                          at x: Int, y: Int, color: Color) {
        let r = region(Rect(x: x, y: y, width: mw, height: mh))
        guard !r.isEmpty, color.a > 0 else { return }
        let ca = Int(color.a)
        for py in r.y..<r.maxY {
            var p = pixels + (py * width + r.x) * 4
            var m = mask + (py - y) * rowBytes + (r.x - x)
            for _ in 0..<r.width {
                let a = Int(m.pointee) * ca / 255
                if a > 0 {
                    p[0] = Canvas.over(p[0], color.r, a); p[1] = Canvas.over(p[1], color.g, a); p[2] = Canvas.over(p[2], color.b, a)
                }
                p += 4
                m += 1
            }
        }
    }

    /// Draws a straight line `thickness` pixels wide from (x0, y0) to (x1, y1), both ends included
    /// (plots and markers; a square pen stepped along the longer axis).
    public func line(from x0: Int, _ y0: Int, to x1: Int, _ y1: Int, _ color: Color, thickness t: Int = 1) {
        let steps = max(abs(x1 - x0), abs(y1 - y0))
        let half = (t - 1) / 2
        for i in 0...steps {
            let x = steps == 0 ? x0 : x0 + ((x1 - x0) * i + (i == 0 ? 0 : steps / 2 * (x1 >= x0 ? 1 : -1))) / steps
            let y = steps == 0 ? y0 : y0 + ((y1 - y0) * i + (i == 0 ? 0 : steps / 2 * (y1 >= y0 ? 1 : -1))) / steps
            fill(Rect(x: x - half, y: y - half, width: t, height: t), color)
        }
    }

    /// Dims everything in `rect` towards `color` by `amount` (0…255) — a translucent veil.
    public func veil(_ rect: Rect, _ color: Color, amount: UInt8) {
        fill(rect, color.withAlpha(amount))
    }

    /// Writes the canvas as an RGBA PNG, atomically.
    public func writePNG(to path: String) throws(ImageError) {
        try Imaging.writePNG(pixels: pixels, width: width, height: height, channels: 4, to: path)
    }
}
