import Interface
import Testing
import Visualization

/// A hand-made font: every printable ASCII character a solid 4×6 block, advance 5, line 8.
func blockFont() -> GlyphAtlas {
    let atlas = GlyphAtlas(lineHeight: 8, ascent: 7)
    for v in UInt32(33)...UInt32(126) {
        atlas.add(UnicodeScalar(v)!, bitmap: [UInt8](repeating: 255, count: 24), width: 4, height: 6, left: 0, top: 1, advance: 5)
    }
    atlas.add(" ", bitmap: [], width: 0, height: 0, left: 0, top: 0, advance: 5)
    return atlas
}

/// Text drawn into a canvas with a glyph atlas (the panes' text).
@Suite("Text")
struct TextTests {
    @Test func textIsDrawnAndCutWithinItsWidth() {
        let font = blockFont()
        let c = Canvas(width: 60, height: 10)
        c.clear(Color(0, 0, 0))
        let end = c.draw("ab c", font: font, x: 1, y: 0, color: Color(255, 255, 255))
        #expect(end == 1 + 4 * 5)
        #expect(c[1, 1] == Color(255, 255, 255) && c[4, 6] == Color(255, 255, 255))
        #expect(c[5, 3] == Color(0, 0, 0), "the gap between glyphs")
        #expect(c[12, 3] == Color(0, 0, 0), "the space")
        #expect(c[1, 0] == Color(0, 0, 0) && c[1, 7] == Color(0, 0, 0), "glyph top and bottom")
        c.clear(Color(0, 0, 0))
        let cut = c.draw("abcdefghij", font: font, x: 0, y: 0, color: Color(255, 255, 255), maxWidth: 22)
        #expect(cut <= 22)
        #expect(c[30, 3] == Color(0, 0, 0))
        #expect(font.width(of: "abc") == 15 && font.fittingCount("abcdef", maxWidth: 12) == 2)
    }

    @Test func unknownCharactersUseTheFallback() {
        let font = blockFont()
        #expect(font.glyph("é") == font.glyph("?"))
        #expect(font.glyph(" ")?.advance == 5 && font.glyph(" ")?.width == 0)
        #expect(font.width(of: "→x") == 10)
    }
}

@Suite("Text buffer")
struct TextBufferTests {
    @Test func formatsNumbers() {
        var t = TextBuffer()
        t.append("x "); t.append(-1205); t.append(" "); t.append(Float(3.14159), decimals: 2); t.append(" ")
        t.append(Float(-0.5), decimals: 1); t.append(" "); t.append(0); t.append(" "); t.append(Float(2), decimals: 0)
        #expect(t.string == "x -1205 3.14 -0.5 0 2")
        t.reset()
        t.append(Float(0.0049), decimals: 3); t.append(" "); t.append(Float.nan, decimals: 2)
        #expect(t.string == "0.005 nan")
    }
}
