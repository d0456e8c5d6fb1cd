import Foundation
import Glibc
import Testing

/// `deepscope run` as a daemon in the background, its stderr collected while it runs; the process
/// is the deepscope binary itself (no wrapper), so that signals and /proc/PID reach it.
final class DaemonProcess: @unchecked Sendable {
    let process = Process()
    let runtime: URL
    private let lock = NSLock()
    private var errText = ""
    private var outText = ""

    /// - Parameters:
    ///   - arguments: after `run`; `--frames` bounds its life should a test forget it.
    ///   - environment: added to (or, with an empty value, removed from) the test's environment.
    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        runtime = try CLI.temporaryDirectory("runtime")
        process.executableURL = URL(fileURLWithPath: CLI.binary!)
        process.arguments = ["run"] + arguments
        process.currentDirectoryURL = CLI.root
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "RUNTIME_DIRECTORY")
        env.removeValue(forKey: "NOTIFY_SOCKET")
        env.removeValue(forKey: "WATCHDOG_USEC")
        env["XDG_RUNTIME_DIR"] = runtime.path
        env["DEEPSCOPE_THREADS"] = "1"
        for (k, v) in environment {
            if v.isEmpty { env.removeValue(forKey: k) } else { env[k] = v }
        }
        process.environment = env
        let err = Pipe(), out = Pipe()
        process.standardError = err
        process.standardOutput = out
        process.standardInput = FileHandle.nullDevice
        var set = sigset_t()
        sigemptyset(&set)
        for s in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&set, s) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        err.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            guard let self, !d.isEmpty else { return }
            self.lock.lock(); self.errText += String(decoding: d, as: UTF8.self); self.lock.unlock()
        }
        out.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            guard let self, !d.isEmpty else { return }
            self.lock.lock(); self.outText += String(decoding: d, as: UTF8.self); self.lock.unlock()
        }
        try process.run()
    }

    deinit {
        end()
        try? FileManager.default.removeItem(at: runtime)
    }

    var pid: Int32 { process.processIdentifier }
    /// The default control socket (under the private $XDG_RUNTIME_DIR).
    var socket: String { runtime.appendingPathComponent("deepscope.sock").path }
    var stderr: String { lock.lock(); defer { lock.unlock() }; return errText }
    var stdout: String { lock.lock(); defer { lock.unlock() }; return outText }

    /// Waits for a stderr line after character `offset` that contains `text`; returns it and the
    /// offset after it.
    func waitForLine(containing text: String, after offset: Int = 0, seconds: Double = 60) -> (line: String, end: Int)? {
        CLI.waitForLine(in: { stderr }, running: { process.isRunning }, containing: text, after: offset, seconds: seconds)
    }

    /// Waits up to `seconds` for the process to end; true when it did.
    func waitForExit(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        return !process.isRunning
    }

    /// Open descriptors of the daemon (the entries of /proc/PID/fd).
    var openDescriptors: Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    func signal(_ s: Int32) { kill(pid, s) }

    func end() {
        guard process.isRunning else { return }
        kill(pid, SIGTERM)
        if !waitForExit(seconds: 5) { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }

    /// `deepscope ctl --socket PATH WORDS…`.
    func ctl(_ words: String...) throws -> CLI.Result {
        try CLI.run(CLI.binary!, ["ctl", "--socket", socket] + words)
    }
}

/// A raw client of a control socket, for what `deepscope ctl` never sends.
final class SocketClient: @unchecked Sendable {
    let fd: Int32

    init?(path: String) {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let ok = withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if ok != 0 {
            close(fd)
            return nil
        }
    }

    deinit { close(fd) }

    /// Writes all of `bytes`; false when the daemon closed the connection.
    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    func write(_ text: String) -> Bool { write(Array(text.utf8)) }

    /// Reads reply lines until `count` have arrived, the daemon closes the connection, or
    /// `seconds` pass; returns them.
    func readLines(_ count: Int, seconds: Double = 30) -> (lines: [String], closed: Bool) {
        var lines: [String] = []
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        let deadline = Date().addingTimeInterval(seconds)
        while lines.count < count && Date() < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 200) > 0 else { continue }
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return (lines, true) }
            pending.append(contentsOf: chunk[0..<n])
            while let i = pending.firstIndex(of: UInt8(ascii: "\n")) {
                lines.append(String(decoding: pending[..<i], as: UTF8.self))
                pending.removeSubrange(...i)
            }
        }
        return (lines, false)
    }
}

extension CLI {
    static func jsonObject(_ text: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }
}
