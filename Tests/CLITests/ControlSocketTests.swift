import Foundation
import Glibc
import Testing

/// The control socket of a headless daemon, driven by `deepscope ctl` and by raw clients.
@Suite("Control socket", .serialized)
struct ControlSocketTests {
    /// A headless daemon on the synthetic scene, ready once its socket answers.
    static func daemon(_ extra: [String] = []) throws -> DaemonProcess {
        let d = try DaemonProcess(["--source", "synthetic", "--headless", "--frames", "100000", "--mode", "off"] + extra)
        #expect(d.waitForLine(containing: "Control socket listening on") != nil, "no control socket: \(d.stderr)")
        return d
    }

    static func status(_ d: DaemonProcess) throws -> [String: Any] {
        let r = try d.ctl("status")
        #expect(r.status == 0, "ctl status: \(r.stderr)")
        #expect(r.stdout.split(separator: "\n").count == 1, "one reply line: \(r.stdout)")
        return try #require(CLI.jsonObject(r.stdout), "not JSON: \(r.stdout)")
    }

    @Test("ctl: status, select, mode, freeze, snapshot and quit, each one JSON line; refusals exit 2")
    func commands() throws {
        if let why = CLI.missing { Issue.record("skipped: \(why)"); return }
        let d = try Self.daemon()
        let socketMode = try FileManager.default.attributesOfItem(atPath: d.socket)[.posixPermissions] as? Int
        #expect(socketMode == 0o660, "socket mode \(String(socketMode ?? 0, radix: 8))")

        var s = try Self.status(d)
        #expect(s["ok"] as? Bool == true)
        #expect(s["mode"] as? String == "off")
        #expect((s["frames"] as? [String: Any])?["captured"] != nil, "\(s)")
        #expect((s["latency_ms"] as? [String: Any])?["forward"] != nil, "\(s)")
        #expect(s["reconnects"] as? Int == 0)
        #expect((s["recording"] as? [String: Any])?["active"] as? Bool == false)

        let select = try d.ctl("select", "blk09_add:5")
        #expect(select.status == 0, "\(select.stderr)")
        #expect(d.waitForLine(containing: "Selected blk09_add:5.") != nil, "the change is logged as the window logs it: \(d.stderr)")
        let mode = try d.ctl("mode", "deconv")
        #expect(mode.status == 0, "\(mode.stderr)")
        s = try Self.status(d)
        #expect(s["layer"] as? String == "blk09_add" && s["unit"] as? Int == 5 && s["mode"] as? String == "deconv", "\(s)")

        // Refused: exit 2, the daemon's sentence on stderr, nothing on stdout.
        let bad = try d.ctl("select", "no_such_layer")
        #expect(bad.status == 2 && bad.stdout.isEmpty, "\(bad)")
        #expect(bad.stderr.contains("no_such_layer"), "\(bad.stderr)")
        let range = try d.ctl("select", "blk09_add:100000")
        #expect(range.status == 2 && range.stderr.contains("out of range"), "\(range.stderr)")
        let record = try d.ctl("record", "start")
        #expect(record.status == 2 && record.stderr.contains("headless"), "\(record.stderr)")
        let usage = try d.ctl("frobnicate")
        #expect(usage.status == 2 && usage.stderr.contains("Unknown command"), "\(usage.stderr)")

        // Frozen: no more frames are inferred.
        #expect(try d.ctl("freeze", "on").status == 0)
        usleep(300_000)
        let before = try #require((try Self.status(d)["frames"] as? [String: Any])?["inferred"] as? Int)
        usleep(600_000)
        s = try Self.status(d)
        #expect((s["frames"] as? [String: Any])?["inferred"] as? Int == before, "frozen, yet frames were inferred: \(s)")
        #expect(s["frozen"] as? Bool == true)
        #expect(try d.ctl("freeze", "off").status == 0)

        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let png = dir.appendingPathComponent("view.png").path
        let snap = try d.ctl("snapshot", png)
        #expect(snap.status == 0, "\(snap.stderr)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: png))
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]), "not a PNG")
        #expect(CLI.jsonObject(snap.stdout)?["width"] as? Int == 1280)

        let quit = try d.ctl("quit")
        #expect(quit.status == 0, "\(quit.stderr)")
        #expect(d.waitForExit(seconds: 10), "quit did not stop the daemon")
        #expect(d.process.terminationStatus == 0, "\(d.stderr)")
        #expect(!FileManager.default.fileExists(atPath: d.socket), "the socket file was left behind")
        let gone = try d.ctl("status")
        #expect(gone.status == 1 && gone.stderr.contains("No deepscope daemon answers"), "\(gone)")
    }

    @Test("Several clients at once, then 10,000 malformed or oversized lines: every one answered or dropped, no descriptor leaked")
    func load() throws {
        if let why = CLI.missing { Issue.record("skipped: \(why)"); return }
        let d = try Self.daemon()
        _ = try Self.status(d)
        let descriptors = d.openDescriptors
        #expect(descriptors > 0)

        // Eight clients, 25 requests each, at the same time.
        let answered = Counter()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            guard let c = SocketClient(path: d.socket) else { return }
            for _ in 0..<25 {
                guard c.write("{\"command\": \"status\"}\n") else { return }
                let (lines, _) = c.readLines(1)
                if let line = lines.first, CLI.jsonObject(line)?["ok"] as? Bool == true { answered.add(1) }
            }
        }
        #expect(answered.value == 200, "status replies: \(answered.value) of 200")

        // 10,000 bad lines: 9,990 malformed ones over 6 connections, each reply read as it comes,
        // and 10 oversized lines (70 KiB, no newline for 64 KiB) on connections of their own.
        let kinds = ["not json", "{\"command\": \"nope\"}", "{}", "[1, 2]", "{\"command\": 7}", "{\"command\": \"select\", \"args\": [1]}",
                     "{\"command\": \"mode\", \"args\": [\"sideways\"]}", "\u{1}\u{2}\u{3}", "{\"command\": \"status\", \"args\": [\"x\"]}"]
        let refused = Counter(), dropped = Counter()
        DispatchQueue.concurrentPerform(iterations: 16) { i in
            guard let c = SocketClient(path: d.socket) else { return }
            if i >= 6 {
                c.write([UInt8](repeating: UInt8(ascii: "x"), count: 70 * 1024) + [10])
                let (lines, closed) = c.readLines(2, seconds: 10)
                if lines.count == 1, CLI.jsonObject(lines[0])?["ok"] as? Bool == false, closed { dropped.add(1) }
                return
            }
            let n = 1665
            let writer = Thread {
                for k in 0..<n { guard c.write(kinds[(k + i) % kinds.count] + "\n") else { return } }
            }
            writer.start()
            let (lines, _) = c.readLines(n, seconds: 60)
            refused.add(lines.filter { CLI.jsonObject($0)?["ok"] as? Bool == false && CLI.jsonObject($0)?["error"] is String }.count)
            while !writer.isFinished { usleep(1000) }
        }
        #expect(refused.value == 6 * 1665, "malformed lines refused: \(refused.value) of \(6 * 1665)")
        #expect(dropped.value == 10, "oversized lines answered and their connections closed: \(dropped.value) of 10")

        // A client that vanishes mid-request, and one that sends half a line and goes.
        if let c = SocketClient(path: d.socket) { c.write("{\"command\": \"sta") }
        if let c = SocketClient(path: d.socket) { c.write("{\"command\": \"status\"}\n") }

        let s = try Self.status(d)
        #expect(s["ok"] as? Bool == true, "the daemon still answers")
        var after = d.openDescriptors
        for _ in 0..<100 where after != descriptors {   // the last closes may still be in flight
            usleep(20_000)
            after = d.openDescriptors
        }
        #expect(after == descriptors, "descriptors: \(descriptors) before, \(after) after")
        print("control socket: 200 status replies from 8 clients, \(refused.value) malformed lines refused, \(dropped.value) oversized dropped; descriptors \(descriptors) → \(after)")
        #expect(d.process.isRunning)
    }

    @Test("run --headless --record: status shows the recording, record stop ends it, select is refused")
    func offscreenRecording() throws {
        if let why = CLI.missing { Issue.record("skipped: \(why)"); return }
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("view.mp4").path
        let d = try Self.daemon(["--record", file])
        let s = try Self.status(d)
        #expect((s["recording"] as? [String: Any])?["path"] as? String == file, "\(s)")
        let select = try d.ctl("select", "blk09_add:1")
        #expect(select.status == 2 && select.stderr.contains("off-screen"), "\(select)")
        usleep(1_500_000)
        let stop = try d.ctl("record", "stop")
        #expect(stop.status == 0, "\(stop.stderr)")
        let mp4 = try Data(contentsOf: URL(fileURLWithPath: file))
        #expect(mp4.count > 1000 && mp4.dropFirst(4).starts(with: Array("ftyp".utf8)), "\(mp4.count) bytes")
        #expect((CLI.jsonObject(try d.ctl("status").stdout)?["recording"] as? [String: Any])?["active"] as? Bool == false)
        #expect(try d.ctl("quit").status == 0)
        let exited = d.waitForExit(seconds: 10)
        #expect(exited, "quit did not stop the daemon")
        if exited { #expect(d.process.terminationStatus == 0, "\(d.stderr)") }
    }

    @Test("ctl with no daemon exits 1; a bad command exits 2 before connecting")
    func noDaemon() throws {
        if let why = CLI.missing { Issue.record("skipped: \(why)"); return }
        let r = try CLI.deepscope("ctl", "--socket", "/tmp/deepscope-no-such-daemon.sock", "status")
        #expect(r.status == 1 && r.stderr.contains("No deepscope daemon answers"), "\(r)")
        let bad = try CLI.deepscope("ctl", "--socket", "/tmp/deepscope-no-such-daemon.sock", "freeze", "maybe")
        #expect(bad.status == 2 && bad.stderr.contains("on or off"), "\(bad)")
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add(_ k: Int) { lock.lock(); n += k; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}
