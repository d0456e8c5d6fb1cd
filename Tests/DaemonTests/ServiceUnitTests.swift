import Capture
import CaptureTesting
import Daemon
import Engine
import Foundation
import Glibc
import Support
import Testing
import TestSupport

@Suite("Configuration file")
struct ConfigurationFileTests {
    @Test("Every key is read; relative paths are taken from the file's folder")
    func keys() throws {
        let c = try DaemonConfiguration.parse("""
            source = "synthetic?width=320&height=240"
            model = "models/net.onnx"
            layer = "blk09_add"
            unit = 96
            mode = "off"
            recordings = "/var/lib/deepscope"
            socket = "run/ds.sock"
            metrics = "[::1]:9464"
            """, path: "/etc/deepscope/deepscope.toml")
        if case .synthetic(let options)? = c.source { #expect(options.width == 320) } else { Issue.record("source: \(String(describing: c.source))") }
        #expect(c.model == "/etc/deepscope/models/net.onnx")
        #expect(c.layer == "blk09_add" && c.unit == 96)
        #expect(c.mode == .some(nil))
        #expect(c.recordings == "/var/lib/deepscope" && c.socket == "/etc/deepscope/run/ds.sock")
        #expect(c.metrics == MetricsAddress(host: "::1", port: 9464))
        #expect(try DaemonConfiguration.parse("", path: "x.toml") == DaemonConfiguration())
    }

    @Test("A bad key or value is one sentence naming the file and the key", arguments: [
        ("colour = 1", "unknown key 'colour'"), ("unit = -3", "'unit'"), ("unit = 1.5", "'unit'"), ("mode = 3", "'mode'"),
        ("layer = \"\"", "'layer'"), ("metrics = \"10.0.0.1:80\"", "not a local address"), ("metrics = \"localhost\"", "'metrics'"),
        ("[source]\nkind = 1", "'source'"), ("a = ", "line 1"),
    ])
    func refused(text: String, mentions: String) {
        do {
            _ = try DaemonConfiguration.parse(text, path: "/etc/ds.toml")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.description.contains("/etc/ds.toml") && error.description.contains(mentions), "\(error.description)")
            #expect(error.description.hasSuffix(".") && !error.description.contains("\n"), "\(error.description)")
            #expect(error.errorKind == .badInput)
        }
    }

    @Test("What a reload may change live, and what needs a restart")
    func changes() throws {
        let a = try DaemonConfiguration.parse("layer = \"a\"\nmode = \"guided\"\nsource = \"synthetic\"", path: "c.toml")
        let b = try DaemonConfiguration.parse("layer = \"b\"\nmode = \"off\"\nsource = \"image:x.png\"\nrecordings = \"/r\"", path: "c.toml")
        let (live, restart) = b.changes(from: a)
        #expect(live == ["layer a → b", "mode guided → off", "recordings . → /r"])
        #expect(restart == ["source"])
        #expect(a.changes(from: a).live.isEmpty)
    }
}

@Suite("Control requests")
struct ControlProtocolTests {
    @Test("The words of `deepscope ctl` and their JSON lines")
    func parse() throws {
        #expect(try ControlCommand.parse("select", ["blk09_add:96"]) == .select(layer: "blk09_add", unit: 96))
        #expect(try ControlCommand.parse("select", ["a:b"]) == .select(layer: "a:b", unit: nil))
        #expect(try ControlCommand.parse("mode", ["off"]) == .mode(nil))
        #expect(try ControlCommand.parse("freeze", ["on"]) == .freeze(true))
        #expect(try ControlCommand.parse("record", ["stop"]) == .record(start: false))
        #expect(try ControlCommand.parse("snapshot", []) == .snapshot(path: nil))
        let line = ControlCommand.requestLine("select", ["blk09_add:96"])
        #expect(try ControlCommand.parse(line: Array(line.utf8)) == .select(layer: "blk09_add", unit: 96))
        for (name, args) in [("select", [String]()), ("mode", ["sideways"]), ("freeze", ["maybe"]), ("status", ["x"]), ("nope", [])] {
            #expect(throws: ControlRefusal.self) { try ControlCommand.parse(name, args) }
        }
        for bad in ["", "{", "[]", "{\"command\": 1}", "{\"command\": \"status\", \"args\": \"x\"}"] {
            #expect(throws: ControlRefusal.self) { try ControlCommand.parse(line: Array(bad.utf8)) }
        }
        #expect(ControlReply(["unit": 3]).line == "{\"ok\":true,\"unit\":3}")
        #expect(ControlReply.refused("No.").line == "{\"error\":\"No.\",\"ok\":false}")
    }
}

/// Holds the inference thread inside its result callback while armed: the frame loop stalls on purpose.
private final class Staller: @unchecked Sendable {
    let monitor = Monitor()
    var stall = false
    var results = 0
    func receive() {
        monitor.lock()
        results += 1
        while stall { _ = monitor.wait(until: MonotonicClock.now() + 10 * Nanoseconds.millisecond) }
        monitor.unlock()
    }
    func release() {
        monitor.withLock { stall = false }
        monitor.broadcast()
    }
}

@Suite("Watchdog", .serialized)
struct WatchdogTests {
    @Test("WATCHDOG=1 comes from the frame loop: it stops while the loop is stalled and resumes after")
    func stall() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ds-watchdog-\(getpid()).sock").path
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(fd); unlink(path) }
        var a = sockaddr_un()
        a.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &a.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let bound = withUnsafePointer(to: &a) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0)
        func pings(during seconds: Double) -> Int {
            var count = 0
            var buffer = [UInt8](repeating: 0, count: 256)
            let end = MonotonicClock.now() + Nanoseconds.seconds(seconds)
            while MonotonicClock.now() < end {
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&p, 1, 20) > 0 else { continue }
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n > 0 && String(decoding: buffer[0..<n], as: UTF8.self) == "WATCHDOG=1" { count += 1 }
            }
            return count
        }

        let notifier = ServiceNotifier(environment: ["NOTIFY_SOCKET": path, "WATCHDOG_USEC": "100000"])
        #expect(notifier.watchdogInterval == 100 * Nanoseconds.millisecond)
        let source = SyntheticSource(options: SourceOptions(width: 64, height: 48, frameRate: 100))
        try source.open()
        let pipeline = try Pipeline(source: source, network: try tinyNetwork(), preprocessing: plainPreprocessing())
        let sink = Staller()
        pipeline.onResult = { _ in sink.receive() }
        pipeline.onHeartbeat = { notifier.frameLoopAlive() }
        pipeline.start()
        defer { sink.release(); pipeline.stop() }
        #expect(pings(during: 0.5) == 0, "pings before READY")
        notifier.ready(status: "test")
        #expect(pings(during: 1) >= 3, "no pings while the loop runs")
        let before = sink.monitor.withLock { sink.results }
        sink.monitor.withLock { sink.stall = true }
        #expect(waitUntil(10) { sink.monitor.withLock { sink.results } > before }, "no frame reached the stalling callback")
        _ = pings(during: 0.2)   // one may have been on its way
        let stalled = pings(during: 1)
        #expect(stalled == 0, "\(stalled) pings while the frame loop was stalled")
        #expect(sink.monitor.withLock { sink.results } <= before + 1, "the loop was not stalled")
        sink.release()
        #expect(pings(during: 1) >= 3, "no pings after the loop resumed")
        #expect(notifier.watchdogPings >= 6)
    }
}
