import Engine
import Foundation
import Imaging
import Interface
import Testing
import Visualization

/// Fixed synthetic inputs for the window's panes, and golden-image comparison.
enum Fixture {
    /// The fonts, loaded once (SDL2_ttf, no display needed).
    static let fonts: Fonts = try! FontLoader.standard(scale: 1)

    static let labels = ["tabby", "tiger cat", "Egyptian cat", "lynx", "window screen", "doormat", "carton", "pillow"]

    /// A snapshot with a 48×48 input, a 12-channel 6×6 layer, a projection and five classes.
    static func snapshot(channels: Int = 12, height: Int = 6, width: Int = 6, fullyConnected: Bool = false) -> VisualSnapshot {
        let s = VisualSnapshot()
        var input = [UInt8](repeating: 0, count: 48 * 48 * 3)
        for y in 0..<48 {
            for x in 0..<48 {
                input[(y * 48 + x) * 3] = UInt8(x * 5)
                input[(y * 48 + x) * 3 + 1] = UInt8(y * 5)
                input[(y * 48 + x) * 3 + 2] = UInt8(((x / 8 + y / 8) % 2) * 200)
            }
        }
        input.withUnsafeBufferPointer { s.setInput($0, width: 48, height: 48) }
        var a = [Float](repeating: 0, count: channels * height * width)
        for c in 0..<channels {
            for y in 0..<height {
                for x in 0..<width {
                    // A blob per channel at a channel-dependent place, scaled by the channel.
                    let dy = Float(y - (c * 7) % height), dx = Float(x - (c * 3) % width)
                    a[(c * height + y) * width + x] = Float(c + 1) * expf(-(dy * dy + dx * dx) / 4) - 0.25
                }
            }
        }
        a.withUnsafeBufferPointer { s.setActivations($0, channels: channels, height: height, width: width) }
        s.fullyConnected = fullyConnected
        s.layerNames = (0..<30).map { "layer_\($0)" } + ["logits"]
        s.layer = fullyConnected ? 30 : 7
        s.channel = min(channels - 1, 4)
        s.position = fullyConnected ? nil : (2, 3)
        s.top = [TopEntry(index: 281, label: "tabby", prob: 0.62), TopEntry(index: 282, label: "tiger cat", prob: 0.21),
                 TopEntry(index: 285, label: "Egyptian cat", prob: 0.09), TopEntry(index: 287, label: "lynx", prob: 0.03),
                 TopEntry(index: 904, label: "window screen", prob: 0.01)]
        var p = [UInt8](repeating: 128, count: 48 * 48 * 3)
        for y in 16..<32 { for x in 16..<32 { p[(y * 48 + x) * 3] = UInt8(128 + (x - 16) * 7); p[(y * 48 + x) * 3 + 2] = UInt8(128 - (y - 16) * 7) } }
        p.withUnsafeBufferPointer { s.setProjection($0, width: 48, height: 48) }
        s.projectionMode = .guided
        s.projectionFilter = .raw
        s.projectionLayer = s.layer
        s.projectionChannel = s.channel
        s.source = "image: fixture"
        s.stats = FrameStats(captureFPS: 30, inferenceFPS: 29.5, latencyMs: 41, dropped: 3, frame: 100)
        return s
    }

    static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    static var recording: Bool { ProcessInfo.processInfo.environment["DEEPSCOPE_RECORD_GOLDEN"] == "1" }

    /// Compares a canvas with `Golden/<name>.png`: at most 0.5% of the pixels may differ by more
    /// than 24 in a channel (font rasterizers differ a little between versions), and the mean
    /// difference must stay under 1.5. With DEEPSCOPE_RECORD_GOLDEN=1 the golden is rewritten.
    static func expectMatchesGolden(_ canvas: Canvas, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let url = goldenDirectory.appendingPathComponent("\(name).png")
        if recording || !FileManager.default.fileExists(atPath: url.path) {
            try FileManager.default.createDirectory(at: goldenDirectory, withIntermediateDirectories: true)
            try canvas.writePNG(to: url.path)
            if !recording { Issue.record("no golden \(name).png: recorded it now; check it and commit", sourceLocation: sourceLocation) }
            return
        }
        let golden = try RGBAImage(contentsOfFile: url.path)
        #expect(golden.width == canvas.width && golden.height == canvas.height, "\(name): size", sourceLocation: sourceLocation)
        guard golden.width == canvas.width, golden.height == canvas.height else { return }
        let image = canvas.image()
        var far = 0, total = 0
        for i in 0..<(image.width * image.height) {
            var worst = 0
            for c in 0..<3 {
                let d = abs(Int(image.pixels[i * 4 + c]) - Int(golden.pixels[i * 4 + c]))
                worst = max(worst, d)
                total += d
            }
            if worst > 24 { far += 1 }
        }
        let pixels = image.width * image.height
        let mean = Double(total) / Double(3 * pixels)
        let ok = far * 200 <= pixels && mean < 1.5
        if !ok {
            let actual = FileManager.default.temporaryDirectory.appendingPathComponent("deepscope-actual-\(name).png")
            try? canvas.writePNG(to: actual.path)
            Issue.record("\(name): \(far) of \(pixels) pixels differ by more than 24, mean difference \(mean); see \(actual.path), re-record with DEEPSCOPE_RECORD_GOLDEN=1",
                         sourceLocation: sourceLocation)
        }
    }
}
