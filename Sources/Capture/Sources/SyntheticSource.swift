// A moving test scene: the demo source when no camera exists, and a stand-in for one in tests.

import Support

/// A deterministic animated scene with the kinds of structure convolutional filters respond to:
/// colour gradients, a scrolling checkerboard (high spatial frequencies), a card of dark "words"
/// (text-like bars) scrolling upwards, a disc moving on a Lissajous curve, a bouncing framed
/// rectangle, and a progress bar. Frame `n` is always the same image (the animation advances by
/// frame count at 30 frames per animation second, however fast frames are read).
public final class SyntheticSource: FrameSource, @unchecked Sendable {
    public let options: SourceOptions
    public let geometry: FrameGeometry
    private var pacer: Pacer
    private var index: UInt64 = 0
    /// Bars of the text card: per line, (start, length) pairs in card pixels.
    private let words: [[(start: Int, length: Int)]]

    public static let defaultGeometry = FrameGeometry(width: 640, height: 480)
    public static let defaultFrameRate = 30.0

    public init(options: SourceOptions = SourceOptions()) {
        self.options = options
        geometry = options.requestedGeometry ?? Self.defaultGeometry
        pacer = Pacer(frameRate: options.frameRate ?? Self.defaultFrameRate)
        // Word lengths from a fixed-seed generator, so every run shows the same text.
        var state: UInt64 = 0x5DEE_CE66_D1CE_4E5B
        func random(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        var lines: [[(Int, Int)]] = []
        for _ in 0..<32 {
            var line: [(Int, Int)] = []
            var x = random(3) * 6
            while true {
                let length = 6 + random(38)
                if x + length > 1000 { break }
                line.append((x, length))
                x += length + 5 + random(4)
            }
            lines.append(line)
        }
        words = lines
    }

    public var name: String { "synthetic scene" }
    public var frameRate: Double { options.frameRate ?? Self.defaultFrameRate }
    public var detail: String {
        "\(geometry) moving test scene at " + (frameRate > 0 ? "\(formatRate(frameRate)) fps" : "full speed")
    }

    public func open() throws(CaptureError) { pacer.reset() }
    public func close() {}

    public func read(into destination: UnsafeMutablePointer<UInt8>, timeout: UInt64) -> FrameRead {
        guard pacer.waitForFrame(timeout: timeout) else { return .timeout }
        render(frame: index, into: destination)
        index += 1
        return .frame(FrameStamp(sourceSequence: index, captureTime: MonotonicClock.now()))
    }

    /// Draws frame `frame` of the scene into `destination` (`geometry.byteCount` bytes). Allocates nothing.
    public func render(frame: UInt64, into destination: UnsafeMutablePointer<UInt8>) {
        let w = geometry.width, h = geometry.height
        let t = Double(frame) / 30
        let canvas = Canvas(pixels: destination, width: w, height: h)

        // Sky-to-ground gradient whose tint drifts slowly.
        let tint = 0.5 + 0.5 * sin(t * 0.7)
        for y in 0..<h {
            let f = Double(y) / Double(max(h - 1, 1))
            let r = UInt8(60 + 170 * f), g = UInt8(110 + 90 * f + 30 * tint), b = UInt8(210 - 80 * f)
            canvas.fillRow(y, from: 0, to: w, (r, g, b))
        }
        // Horizontal colour ramp across the top band.
        let band = h / 12
        for y in 0..<band {
            for x in 0..<w {
                let f = Double(x) / Double(max(w - 1, 1))
                canvas.set(x, y, (UInt8(255 * f), UInt8(255 * (1 - f)), UInt8(128 + 100 * tint)))
            }
        }
        // Scrolling checkerboard, lower left.
        let cell = max(2, h / 40)
        let shift = Int(t * 24)
        let board = (x0: w / 20, y0: h * 11 / 20, x1: w * 9 / 20, y1: h * 19 / 20)
        for y in board.y0..<board.y1 {
            for x in board.x0..<board.x1 {
                let dark = ((x + shift) / cell + y / cell) % 2 == 0
                canvas.set(x, y, dark ? (20, 20, 20) : (235, 235, 235))
            }
        }
        // Text card, upper right: rows of dark bars on white, scrolling up.
        let card = (x0: w * 11 / 20, y0: h / 6, x1: w * 19 / 20, y1: h / 2)
        let lineHeight = max(4, h / 40), barHeight = max(2, lineHeight * 3 / 5)
        let scroll = Int(t * 10)
        let cardWidth = card.x1 - card.x0 - 8
        for y in card.y0..<card.y1 { canvas.fillRow(y, from: card.x0, to: card.x1, (245, 245, 240)) }
        for y in (card.y0 + 4)..<(card.y1 - 4) {
            let v = y - card.y0 + scroll
            guard v % lineHeight < barHeight else { continue }
            let line = words[(v / lineHeight) % words.count]
            for word in line {
                let x0 = word.start * cardWidth / 1000, x1 = (word.start + word.length) * cardWidth / 1000
                canvas.fillRow(y, from: card.x0 + 4 + x0, to: card.x0 + 4 + x1, (30, 30, 60))
            }
        }
        // A disc on a Lissajous curve.
        let radius = Double(min(w, h)) / 9
        let cx = Double(w) * (0.5 + 0.32 * sin(t * 0.9)), cy = Double(h) * (0.5 + 0.3 * sin(t * 1.3 + 1))
        canvas.disc(cx: cx, cy: cy, radius: radius, (230, 70, 40))
        canvas.disc(cx: cx - radius * 0.3, cy: cy - radius * 0.3, radius: radius * 0.25, (255, 200, 180))
        // A framed rectangle bouncing left and right.
        let rw = w / 6, rh = h / 5
        let travel = Double(w - rw)
        let phase = (t * 0.4).truncatingRemainder(dividingBy: 2)
        let rx = Int(travel * (phase < 1 ? phase : 2 - phase)), ry = h * 13 / 20
        for y in ry..<min(ry + rh, h) {
            let edge = y < ry + 4 || y >= ry + rh - 4
            canvas.fillRow(y, from: rx, to: rx + rw, edge ? (10, 60, 20) : (60, 190, 80))
            if !edge {
                canvas.fillRow(y, from: rx, to: rx + 4, (10, 60, 20))
                canvas.fillRow(y, from: rx + rw - 4, to: rx + rw, (10, 60, 20))
            }
        }
        // Progress bar along the bottom: one sweep per 100 frames.
        let barTop = h - max(3, h / 60)
        let filled = Int(Double(w) * Double(frame % 100) / 100)
        for y in barTop..<h {
            canvas.fillRow(y, from: 0, to: filled, (250, 250, 250))
            canvas.fillRow(y, from: filled, to: w, (40, 40, 40))
        }
        if options.mirror { canvas.mirror() }
    }
}

/// Drawing into packed RGB with clipping.
private struct Canvas {
    let pixels: UnsafeMutablePointer<UInt8>
    let width: Int
    let height: Int

    @inline(__always)
    func set(_ x: Int, _ y: Int, _ c: (UInt8, UInt8, UInt8)) {
        let p = pixels + (y * width + x) * 3
        p[0] = c.0
        p[1] = c.1
        p[2] = c.2
    }

    func fillRow(_ y: Int, from x0: Int, to x1: Int, _ c: (UInt8, UInt8, UInt8)) {
        guard y >= 0 && y < height else { return }
        let a = max(0, x0), b = min(width, x1)
        guard a < b else { return }
        var p = pixels + (y * width + a) * 3
        for _ in a..<b {
            p[0] = c.0
            p[1] = c.1
            p[2] = c.2
            p += 3
        }
    }

    func disc(cx: Double, cy: Double, radius: Double, _ c: (UInt8, UInt8, UInt8)) {
        let y0 = max(0, Int(cy - radius)), y1 = min(height - 1, Int(cy + radius))
        guard y0 <= y1 else { return }
        for y in y0...y1 {
            let dy = Double(y) + 0.5 - cy
            let span = radius * radius - dy * dy
            guard span > 0 else { continue }
            let half = span.squareRoot()
            fillRow(y, from: Int((cx - half).rounded()), to: Int((cx + half).rounded()), c)
        }
    }

    func mirror() {
        for y in 0..<height {
            var left = pixels + y * width * 3
            var right = left + (width - 1) * 3
            while left < right {
                for k in 0..<3 { swap(&left[k], &right[k]) }
                left += 3
                right -= 3
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
