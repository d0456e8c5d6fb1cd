import Foundation
import Glibc
import Testing

/// A datagram socket standing in for the service manager's $NOTIFY_SOCKET.
final class NotifyListener {
    let fd: Int32
    /// What to put in NOTIFY_SOCKET: a path, or "@name" for an abstract address.
    let address: String
    private var path: String?

    init(abstract: Bool) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var a = sockaddr_un()
        a.sun_family = sa_family_t(AF_UNIX)
        let name = "deepscope-notify-\(getpid())-\(UUID().uuidString.prefix(8))"
        var bytes: [UInt8]
        if abstract {
            address = "@" + name
            bytes = [0] + Array(name.utf8)
        } else {
            let p = FileManager.default.temporaryDirectory.appendingPathComponent(name + ".sock").path
            path = p
            address = p
            bytes = Array(p.utf8)
        }
        withUnsafeMutableBytes(of: &a.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let length = MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1)
        let ok = withUnsafePointer(to: &a) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(length)) }
        }
        try #require(ok == 0, "bind \(address): errno \(errno)")
    }

    deinit {
        close(fd)
        if let path { unlink(path) }
    }

    /// Messages received within `seconds`, with their arrival times (seconds since the call).
    func receive(for seconds: Double, until stop: (String) -> Bool = { _ in false }) -> [(time: Double, text: String)] {
        var out: [(Double, String)] = []
        let start = Date()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date().timeIntervalSince(start) < seconds {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 50) > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { continue }
            let text = String(decoding: buffer[0..<n], as: UTF8.self)
            out.append((Date().timeIntervalSince(start), text))
            if stop(text) { break }
        }
        return out
    }
}

/// The daemon under a service manager: sd_notify, the configuration file, SIGHUP and SIGTERM.
@Suite("Service", .serialized)
struct ServiceTests {
    @Test("READY=1, then WATCHDOG=1 at half of WATCHDOG_USEC, then STOPPING=1 on SIGTERM", arguments: [false, true])
    func notify(abstract: Bool) throws {
        if let why = CLI.missing { Issue.record("skipped: \(why)"); return }
        let listener = try NotifyListener(abstract: abstract)
        let d = try DaemonProcess(["--source", "synthetic", "--headless", "--frames", "100000", "--mode", "off"],
                                  environment: ["NOTIFY_SOCKET": listener.address, "WATCHDOG_USEC": "400000"])
        let first = listener.receive(for: 60) { $0.contains("READY=1") }
        let ready = try #require(first.last, "no READY=1: \(d.stderr)")
        #expect(ready.text.contains("READY=1") && ready.text.contains("MAINPID=\(d.pid)"), "\(ready.text)")
        #expect(!first.dropLast().contains { $0.text.contains("WATCHDOG=1") }, "a watchdog ping before READY")
        let pings = listener.receive(for: 3).filter { $0.text == "WATCHDOG=1" }
        // Pinged every 0.2 s (half the interval): about 15 in 3 s; never faster than the interval allows.
        #expect(pings.count >= 5, "\(pings.count) pings in 3 s: \(d.stderr)")
        #expect(pings.count <= 16, "\(pings.count) pings in 3 s: faster than every 0.2 s")
        let gaps = zip(pings.dropFirst(), pings).map { $0.time - $1.time }
        print("watchdog: \(pings.count) pings in 3 s, gaps \(gaps.map { String(format: "%.3f", $0) }.joined(separator: " ")) s (WATCHDOG_USEC=400000)")
        let t0 = Date()
        d.signal(SIGTERM)
        let last = listener.receive(for: 5) { $0.contains("STOPPING=1") }
        #expect(last.contains { $0.text.contains("STOPPING=1") }, "no STOPPING=1")
        #expect(d.waitForExit(seconds: 10))
        let seconds = Date().timeIntervalSince(t0)
        print("SIGTERM to exit: \(String(format: "%.2f", seconds)) s")
        #expect(seconds < 2, "SIGTERM took \(seconds) s to stop the daemon")
        #expect(d.process.terminationStatus == 0, "\(d.stderr)")
        #expect(!FileManager.default.fileExists(atPath: d.socket), "the socket file was left behind")
    }

    @Test("A bad configuration file: exit 2 and one sentence naming the file and the key", arguments: [
        ("colour = \"blue\"\n", "'colour'"), ("unit = \"seven\"\n", "'unit'"), ("mode = \"sideways\"\n", "'mode'"),
        ("source = \"webcam\"\n", "'source'"), ("metrics = \"0.0.0.0:9464\"\n", "'metrics'"), ("layer = = 3\n", "line 1"),
        ("source = \"synthetic\"\nlayer = \"no_such_layer\"\n", "'layer'"), ("source = \"synthetic\"\nlayer = \"blk09_add\"\nunit = 5000\n", "'unit'"),
        ("recordings = \"/no/such/folder\"\n", "'recordings'"),
    ])
    func badFile(text: String, key: String) throws {
        if let why = CLI.missing { Issue.record("skipped: \(why)"); return }
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("deepscope.toml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let r = try CLI.deepscope("run", "--config", file.path, "--headless", "--frames", "1")
        #expect(r.status == 2, "\(r)")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1 && r.stderr.contains(file.path) && r.stderr.contains(key), "\(r.stderr)")
    }

    @Test("SIGHUP re-reads the file and applies layer, unit and mode; a bad file keeps the running configuration")
    func reload() throws {
        if let why = CLI.missing { Issue.record("skipped: \(why)"); return }
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("deepscope.toml")
        let socket = dir.appendingPathComponent("control.sock").path
        try """
            source = "synthetic"
            layer = "blk09_add"
            unit = 3
            mode = "off"
            socket = "\(socket)"
            recordings = "\(dir.path)"
            """.write(to: file, atomically: true, encoding: .utf8)
        let d = try DaemonProcess(["--config", file.path, "--headless", "--frames", "100000"])
        #expect(d.waitForLine(containing: "Control socket listening on \(socket)") != nil, "\(d.stderr)")
        func status() throws -> [String: Any] {
            let r = try CLI.deepscope("ctl", "--socket", socket, "status")
            #expect(r.status == 0, "\(r.stderr)")
            return CLI.jsonObject(r.stdout) ?? [:]
        }
        var s = try status()
        #expect(s["layer"] as? String == "blk09_add" && s["unit"] as? Int == 3 && s["mode"] as? String == "off", "\(s)")
        #expect(s["source"] as? String == "synthetic scene", "\(s)")

        try """
            source = "synthetic"
            layer = "head_relu6"
            unit = 7
            mode = "deconv"
            socket = "\(socket)"
            recordings = "\(dir.path)"
            """.write(to: file, atomically: true, encoding: .utf8)
        let mark = d.stderr.count
        d.signal(SIGHUP)
        let line = try #require(d.waitForLine(containing: "Configuration reloaded", after: mark), "\(d.stderr)")
        #expect(line.line.contains("layer blk09_add → head_relu6") && line.line.contains("mode off → deconv"), "\(line.line)")
        s = try status()
        #expect(s["layer"] as? String == "head_relu6" && s["unit"] as? Int == 7 && s["mode"] as? String == "deconv", "\(s)")

        try "layer = \"head_relu6\"\nunit = -1\n".write(to: file, atomically: true, encoding: .utf8)
        d.signal(SIGHUP)
        let refused = try #require(d.waitForLine(containing: "Reload refused", after: line.end), "\(d.stderr)")
        #expect(refused.line.contains(file.path) && refused.line.contains("'unit'"), "\(refused.line)")
        s = try status()
        #expect(s["layer"] as? String == "head_relu6" && s["unit"] as? Int == 7 && s["mode"] as? String == "deconv", "\(s)")
        #expect(d.process.isRunning)

        d.signal(SIGTERM)
        #expect(d.waitForExit(seconds: 10))
        #expect(d.process.terminationStatus == 0, "\(d.stderr)")
        #expect(!FileManager.default.fileExists(atPath: socket), "the socket file was left behind")
        #expect(d.stderr.contains("Stopped by SIGTERM"), "\(d.stderr)")
    }

    @Test("The unit files pass systemd-analyze verify, and the system unit's exposure is at most 3.0")
    func units() throws {
        let r = try CLI.run(CLI.root.appendingPathComponent("Scripts/check-units").path, [])
        print(r.stdout, terminator: "")
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("exposure deepscope.service: "), "\(r.stdout)")
    }
}
