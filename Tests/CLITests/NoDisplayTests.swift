import Foundation
import Testing

/// `deepscope run` where nobody can see a window: it says so in one line and goes on headless,
/// printing what the network sees about once a second.
@Suite(.serialized, .enabled(if: CLI.missing == nil, "\(CLI.missing ?? "")"))
struct NoDisplayTests {
    /// `deepscope run ARGS` with DISPLAY and WAYLAND_DISPLAY unset (and `unset` more variables).
    static func runWithoutDisplay(_ arguments: [String], unset: [String] = [], environment: [String: String] = [:]) throws -> CLI.Result {
        let removed = ["DISPLAY", "WAYLAND_DISPLAY"] + unset
        return try CLI.run("/usr/bin/env", removed.flatMap { ["-u", $0] } + [CLI.binary!, "run"] + arguments, environment: environment)
    }

    /// The status lines: "   1.0 s  SOURCE: CLASS P%, CLASS P%, CLASS P%  (F fps)".
    static func statusLines(_ stderr: String) -> [Substring] {
        stderr.split(separator: "\n").filter { $0.hasSuffix(" fps)") && $0.contains(" s  ") && $0.contains("%, ") }
    }

    @Test("no DISPLAY, no WAYLAND_DISPLAY: one line says so, status lines follow, exit 0")
    func noDisplayGoesHeadless() throws {
        let r = try Self.runWithoutDisplay(["--source", "synthetic?fps=15", "--frames", "40"], unset: ["SDL_VIDEODRIVER"])
        #expect(r.status == 0, "\(r.stderr)")
        let said = r.stderr.split(separator: "\n").filter { $0.contains("No display") }
        #expect(said.count == 1 && said[0].contains("running headless"), "\(r.stderr)")
        let status = Self.statusLines(r.stderr)
        #expect(status.count >= 1, "\(r.stderr)")
        for line in status {
            #expect(line.contains("synthetic scene: ") && line.split(separator: "%").count == 4, "\(line)")
        }
        #expect(r.stdout.contains("inferred 40"), "\(r.stdout)")
    }

    @Test("SDL's offscreen fallback is no display either, unless SDL_VIDEODRIVER chose it")
    func offscreenIsNoDisplay() throws {
        // DISPLAY names a server that does not exist: SDL falls back to a driver nobody can see.
        let fallback = try CLI.run("/usr/bin/env", ["-u", "SDL_VIDEODRIVER", "-u", "WAYLAND_DISPLAY", "DISPLAY=:9998",
                                                    CLI.binary!, "run", "--source", "synthetic", "--frames", "3"])
        #expect(fallback.status == 0, "\(fallback.stderr)")
        #expect(fallback.stderr.split(separator: "\n").filter { $0.contains("No display") }.count == 1, "\(fallback.stderr)")
        #expect(!fallback.stderr.contains("Window open"), "\(fallback.stderr)")
        for driver in ["offscreen", "dummy"] {
            let chosen = try Self.runWithoutDisplay(["--source", "synthetic", "--frames", "3"], environment: ["SDL_VIDEODRIVER": driver])
            #expect(chosen.status == 0, "\(driver): \(chosen.stderr)")
            #expect(chosen.stderr.contains("Window open") && !chosen.stderr.contains("No display"), "\(driver): \(chosen.stderr)")
            #expect(chosen.stdout.contains("frames presented"), "\(driver): \(chosen.stdout)")
        }
    }

    @Test("the first run: no camera, no display: the demo photos, named, and what the network sees in them")
    func firstRun() throws {
        let demo = CLI.root.appendingPathComponent("Assets/demo").path
        let photos = (try? FileManager.default.contentsOfDirectory(atPath: demo)) ?? []
        try #require(!photos.isEmpty, "Scripts/setup copies the demo photos into \(demo)")
        let r = try Self.runWithoutDisplay(["--frames", "20"], unset: ["SDL_VIDEODRIVER", "DEEPSCOPE_EMULATED_CAMERAS"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("No camera found") && r.stderr.contains("demo photos"), "\(r.stderr)")
        let status = Self.statusLines(r.stderr)
        #expect(status.count >= 1, "\(r.stderr)")
        // The first photo is chelsea: a cat.
        #expect(status.first.map { $0.contains(" cat ") || $0.contains("tabby") } == true, "\(status)")
    }

    @Test("--headless on purpose stays quiet when stderr is not a terminal")
    func headlessOnPurpose() throws {
        let r = try Self.runWithoutDisplay(["--source", "synthetic?fps=15", "--frames", "20", "--headless"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stderr.contains("No display"), "\(r.stderr)")
        #expect(Self.statusLines(r.stderr).isEmpty, "\(r.stderr)")
    }
}
