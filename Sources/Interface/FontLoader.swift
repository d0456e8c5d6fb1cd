import CSDL2
import Visualization

/// Why fonts could not be loaded: one sentence naming the file.
public struct FontError: Error, CustomStringConvertible {
    public var description: String
}

/// Rasterizes TrueType fonts into glyph atlases with SDL2_ttf (which needs no video driver).
public enum FontLoader {
    public static let directory = "/usr/share/fonts/truetype/dejavu"
    public static let sans = "\(directory)/DejaVuSans.ttf"
    public static let sansBold = "\(directory)/DejaVuSans-Bold.ttf"
    public static let mono = "\(directory)/DejaVuSansMono.ttf"

    /// The characters every atlas holds: printable ASCII, Latin-1 letters and the symbols the
    /// window uses.
    static let characters: [UnicodeScalar] = {
        var s = (0x20...0x7E).compactMap(UnicodeScalar.init)
        s += (0xA0...0xFF).compactMap(UnicodeScalar.init)
        s += ["\u{2026}", "\u{00D7}", "\u{2013}", "\u{2014}", "\u{2190}", "\u{2191}", "\u{2192}", "\u{2193}",
              "\u{2022}", "\u{2502}", "\u{2212}", "\u{2264}", "\u{2265}", "\u{03B3}"]
        return s
    }()

    /// Rasterizes the font at `path` at `pixelSize`.
    public static func atlas(path: String, pixelSize: Int) throws -> GlyphAtlas {
        if TTF_WasInit() == 0 && TTF_Init() != 0 {
            throw FontError(description: "SDL2_ttf could not start: \(String(cString: SDL_GetError())).")
        }
        guard let font = TTF_OpenFont(path, Int32(pixelSize)) else {
            throw FontError(description: "The font \(path) could not be opened: \(String(cString: SDL_GetError())).")
        }
        defer { TTF_CloseFont(font) }
        TTF_SetFontHinting(font, TTF_HINTING_LIGHT)
        let atlas = GlyphAtlas(lineHeight: Int(TTF_FontHeight(font)), ascent: Int(TTF_FontAscent(font)))
        let white = SDL_Color(r: 255, g: 255, b: 255, a: 255)
        for scalar in characters {
            guard TTF_GlyphIsProvided32(font, scalar.value) != 0 else { continue }
            var minx: Int32 = 0, maxx: Int32 = 0, miny: Int32 = 0, maxy: Int32 = 0, advance: Int32 = 0
            guard TTF_GlyphMetrics32(font, scalar.value, &minx, &maxx, &miny, &maxy, &advance) == 0 else { continue }
            if scalar == " " || maxx <= minx {
                atlas.add(scalar, bitmap: [], width: 0, height: 0, left: 0, top: 0, advance: Int(advance))
                continue
            }
            guard let rendered = TTF_RenderGlyph32_Blended(font, scalar.value, white) else { continue }
            defer { SDL_FreeSurface(rendered) }
            // Blended output is 32-bit ARGB; keep the coverage (alpha), cropped to its ink.
            guard let surface = SDL_ConvertSurfaceFormat(rendered, SDL_PIXELFORMAT_ARGB8888.rawValue, 0) else { continue }
            defer { SDL_FreeSurface(surface) }
            let w = Int(surface.pointee.w), h = Int(surface.pointee.h), pitch = Int(surface.pointee.pitch)
            SDL_LockSurface(surface)
            let base = surface.pointee.pixels.assumingMemoryBound(to: UInt8.self)
            func coverage(_ x: Int, _ y: Int) -> UInt8 {
                (base + y * pitch).withMemoryRebound(to: UInt32.self, capacity: w) { UInt8(truncatingIfNeeded: $0[x] >> 24) }
            }
            var x0 = w, y0 = h, x1 = -1, y1 = -1
            for y in 0..<h {
                for x in 0..<w where coverage(x, y) > 0 {
                    x0 = min(x0, x); x1 = max(x1, x); y0 = min(y0, y); y1 = max(y1, y)
                }
            }
            var bitmap: [UInt8] = []
            if x1 >= x0 {
                bitmap.reserveCapacity((x1 - x0 + 1) * (y1 - y0 + 1))
                for y in y0...y1 { for x in x0...x1 { bitmap.append(coverage(x, y)) } }
            }
            SDL_UnlockSurface(surface)
            if x1 >= x0 {
                atlas.add(scalar, bitmap: bitmap, width: x1 - x0 + 1, height: y1 - y0 + 1, left: x0, top: y0, advance: Int(advance))
            } else {
                atlas.add(scalar, bitmap: [], width: 0, height: 0, left: 0, top: 0, advance: Int(advance))
            }
        }
        return atlas
    }

    /// The window's fonts (DejaVu Sans and Sans Mono) at `scale` (2 on HiDPI screens).
    public static func standard(scale: Int = 1) throws -> Fonts {
        let s = max(1, scale)
        return Fonts(body: try atlas(path: sans, pixelSize: 15 * s),
                     small: try atlas(path: sans, pixelSize: 13 * s),
                     mono: try atlas(path: mono, pixelSize: 13 * s))
    }
}
