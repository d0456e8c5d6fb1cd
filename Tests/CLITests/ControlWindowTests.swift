import Foundation
import Glibc
import Testing

/// The control socket of a daemon with a window (under Xvfb): requests change the window's
/// selection as its keys do, and `record start|stop` drives the window's recorder.
@Suite("Control socket with a window", .serialized)
struct ControlWindowTests {
    @Test("select, mode, record start and stop, snapshot and quit reach the window")
    func window() throws {
        if let why = CLI.missing { Issue.record("skipped: \(why)"); return }
        if let why = VirtualDisplay.missing { Issue.record("skipped: \(why)"); return }
        let display = try VirtualDisplay()
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let d = try DaemonProcess(["--source", "synthetic", "--frames", "100000", "--size", "800x500", "--snapshot-dir", dir.path],
                                  environment: ["DISPLAY": display.name, "SDL_RENDER_DRIVER": "software", "SDL_VIDEODRIVER": ""])
        #expect(d.waitForLine(containing: "First frame presented") != nil, "no window: \(d.stderr)")
        #expect(d.waitForLine(containing: "Control socket listening on") != nil, "\(d.stderr)")

        let select = try d.ctl("select", "blk09_add:7")
        #expect(select.status == 0, "\(select.stderr)")
        #expect(d.waitForLine(containing: "Selected blk09_add:7.") != nil, "the window logs the request as it logs a key: \(d.stderr)")
        #expect(try d.ctl("mode", "gradient").status == 0)
        #expect(d.waitForLine(containing: "Projection mode gradient") != nil, "\(d.stderr)")
        let status = try d.ctl("status")
        let s = try #require(CLI.jsonObject(status.stdout), "\(status)")
        #expect(s["layer"] as? String == "blk09_add" && s["unit"] as? Int == 7 && s["mode"] as? String == "gradient", "\(s)")

        let start = try d.ctl("record", "start")
        #expect(start.status == 0, "\(start.stderr)")
        let path = try #require(CLI.jsonObject(start.stdout)?["path"] as? String, "\(start.stdout)")
        #expect(path.hasPrefix(dir.path) && path.hasSuffix(".mp4"), "\(path)")
        let again = try d.ctl("record", "start")
        #expect(again.status == 2 && again.stderr.contains("Already recording"), "\(again)")
        let recording = try #require(CLI.jsonObject(try d.ctl("status").stdout))
        #expect((recording["recording"] as? [String: Any])?["path"] as? String == path, "\(recording)")
        usleep(1_500_000)
        let stop = try d.ctl("record", "stop")
        #expect(stop.status == 0, "\(stop.stderr)")
        let mp4 = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(mp4.count > 1000 && mp4.dropFirst(4).starts(with: Array("ftyp".utf8)), "\(mp4.count) bytes")
        #expect(try d.ctl("record", "stop").status == 2, "stopping twice is refused")

        let snap = try d.ctl("snapshot", "view.png")
        #expect(snap.status == 0, "\(snap.stderr)")
        let png = dir.appendingPathComponent("view.png").path
        #expect(CLI.jsonObject(snap.stdout)?["snapshot"] as? String == png, "relative names go to the recordings folder: \(snap.stdout)")
        #expect((try? Data(contentsOf: URL(fileURLWithPath: png)))?.starts(with: [0x89, 0x50, 0x4E, 0x47]) == true)

        #expect(try d.ctl("quit").status == 0)
        #expect(d.waitForExit(seconds: 15), "quit did not close the window")
        #expect(d.process.terminationStatus == 0, "\(d.stderr)")
        #expect(!FileManager.default.fileExists(atPath: d.socket))
    }
}
