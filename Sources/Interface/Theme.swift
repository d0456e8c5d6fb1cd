import Visualization

/// The window's colours: a calm dark theme.
public struct Theme: Sendable {
    public var background = Color(hex: 0x121419)
    public var panel = Color(hex: 0x1B1E25)
    public var caption = Color(hex: 0x232731)
    public var border = Color(hex: 0x2E333F)
    public var text = Color(hex: 0xE3E6EC)
    public var dimText = Color(hex: 0x8C93A1)
    public var accent = Color(hex: 0x5AA9FF)
    public var hover = Color(hex: 0xFFC857)
    public var bar = Color(hex: 0x3C7DD9)
    public var barTrack = Color(hex: 0x2A2F3A)
    public var warning = Color(hex: 0xFF8A65)

    public init() {}
    public static let dark = Theme()
}

/// The fonts a window draws with.
public struct Fonts: Sendable {
    /// Captions, names, labels.
    public var body: GlyphAtlas
    /// Secondary text (values, hints).
    public var small: GlyphAtlas
    /// Numbers and the status line.
    public var mono: GlyphAtlas

    public init(body: GlyphAtlas, small: GlyphAtlas, mono: GlyphAtlas) {
        self.body = body; self.small = small; self.mono = mono
    }
}
