import ArgumentParser
import Daemon
import Foundation
import Glibc
import Support

/// `deepscope ctl`: one request to a running daemon's control socket, its JSON reply on stdout.
struct Ctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sends one command to a running daemon and prints its JSON reply.",
        discussion: """
            COMMAND is one of: status | select LAYER[:UNIT] | mode deconv|guided|gradient|off | \
            freeze on|off | record start|stop | snapshot [FILE] | quit. The socket is --socket, else \
            $RUNTIME_DIRECTORY/deepscope.sock, else $XDG_RUNTIME_DIR/deepscope.sock. Exit status: 0 with \
            the reply on stdout, 2 when the daemon refused (its reason on stderr), 1 when no daemon answers.
            """)

    @Option(name: .long, help: ArgumentHelp("The daemon's control socket.", valueName: "path"))
    var socket: String?

    @Argument(help: ArgumentHelp("The command and its arguments.", valueName: "command"))
    var words: [String] = []

    /// How long to wait for the reply (a snapshot is written before its reply).
    static let timeout: Int32 = 10_000

    func run() throws {
        guard let name = words.first else { throw UserError("Give a command: \(ControlCommand.usage).") }
        let args = Array(words.dropFirst())
        do throws(ControlRefusal) { _ = try ControlCommand.parse(name, args) } catch { throw UserError(error.description) }
        let path = ControlServer.defaultPath(configured: socket, environment: ProcessInfo.processInfo.environment)
        let reply = try Self.exchange(ControlCommand.requestLine(name, args), path: path)
        guard let object = try? JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any] else {
            throw UserError("The daemon on \(path) sent a reply that is not JSON.", status: 1)
        }
        if object["ok"] as? Bool == true {
            print(reply)
            return
        }
        throw UserError((object["error"] as? String) ?? "The daemon on \(path) refused the request.")
    }

    /// Sends `line` and returns the reply's line; no daemon answering is exit status 1.
    static func exchange(_ line: String, path: String) throws -> String {
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw UserError("No socket could be made: \(errnoReason(errno)).", status: 1) }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw UserError("The socket path \(path) is too long.", status: 2)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let connected = withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            throw UserError("No deepscope daemon answers on \(path): \(errnoReason(errno)).", status: 1)
        }
        let request = Array((line + "\n").utf8)
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw UserError("The daemon on \(path) closed the connection: \(errnoReason(errno)).", status: 1) }
            sent += n
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !received.contains(UInt8(ascii: "\n")) {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, timeout) > 0 else {
                throw UserError("The daemon on \(path) did not answer within \(timeout / 1000) s.", status: 1)
            }
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw UserError("The daemon on \(path) closed the connection without a reply.", status: 1) }
            received.append(contentsOf: chunk[0..<n])
        }
        let end = received.firstIndex(of: UInt8(ascii: "\n"))!
        return String(decoding: received[..<end], as: UTF8.self)
    }
}
