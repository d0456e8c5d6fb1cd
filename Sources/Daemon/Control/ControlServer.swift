// The control socket: a Unix stream socket speaking JSON lines, served by one thread of its own.
//
// A small poll(2) loop rather than swift-nio: one listening socket and a handful of local
// clients need no event-loop library, and swift-nio would add its whole build (several minutes
// of CI on two cores, more than the rest of the daemon) for a few hundred requests a day. The
// loop never blocks on a client (every descriptor is non-blocking) and never waits for the frame
// loop: requests go to a `CommandQueue` that the window's thread (or, headless, the main thread)
// drains, and their replies come back through `deliver`.

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Support

/// Why the control socket could not be opened: a failure of the machine (exit 1), naming the path.
public struct ControlSocketError: DeepScopeError {
    public var description: String
    /// The metrics address failed (rather than the control socket).
    public var metrics = false
    public var errorKind: ErrorKind { .failure }
}

/// Requests waiting for the thread that owns the selection, with where to send each reply.
public final class CommandQueue: @unchecked Sendable {
    public struct Request: @unchecked Sendable {
        public let command: ControlCommand
        let reply: @Sendable (ControlReply) -> Void
        /// Sends the reply (once).
        public func answer(_ r: ControlReply) { reply(r) }
    }

    /// More than this many waiting requests are refused at once (the owner is behind).
    public static let capacity = 256
    private let monitor = Monitor()
    private var waiting: [Request] = []
    /// Called after each post (the window wakes its loop with it).
    public var onPost: (@Sendable () -> Void)?

    public init() {}

    /// Queues a request; false when the queue is full.
    public func post(_ command: ControlCommand, reply: @escaping @Sendable (ControlReply) -> Void) -> Bool {
        let ok: Bool = monitor.withLock {
            guard waiting.count < Self.capacity else { return false }
            waiting.append(Request(command: command, reply: reply))
            return true
        }
        if ok {
            monitor.broadcast()
            onPost?()
        }
        return ok
    }

    /// Everything waiting, oldest first.
    public func take() -> [Request] {
        monitor.withLock {
            defer { waiting.removeAll(keepingCapacity: true) }
            return waiting
        }
    }

    /// Waits up to `timeout` nanoseconds for a request.
    public func wait(timeout: UInt64) {
        let deadline = MonotonicClock.now() &+ timeout
        monitor.lock()
        defer { monitor.unlock() }
        while waiting.isEmpty {
            if !monitor.wait(until: deadline) { break }
        }
    }
}

/// The listening socket and its clients, on a thread of its own.
public final class ControlServer: @unchecked Sendable {
    /// A request line longer than this is refused and its client dropped.
    public static let maximumLine = 64 * 1024
    /// Replies a client has not read beyond this: the client is dropped.
    public static let maximumPendingOutput = 1 << 20
    /// At most this many clients at once; more are told so and closed.
    public static let maximumClients = 64
    /// A client that sends nothing for this long is dropped.
    public static let idleTimeout: UInt64 = 60 * Nanoseconds.second

    public let path: String
    private let queue: CommandQueue
    private let listener: Int32
    /// A pipe that wakes the poll loop: replies arrived, or stop.
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private var thread: WorkerThread?
    private let monitor = Monitor()
    private var replies: [(client: UInt64, line: String)] = []
    private var stopping = false

    private final class Client {
        let fd: Int32
        let id: UInt64
        var input: [UInt8] = []
        var output: [UInt8] = []
        var inFlight = false
        /// Close once the output is flushed.
        var closing = false
        var lastActivity: UInt64
        init(fd: Int32, id: UInt64, now: UInt64) {
            self.fd = fd
            self.id = id
            lastActivity = now
            input.reserveCapacity(4096)
        }
    }

    /// The socket's path: the configured one, else `$RUNTIME_DIRECTORY/deepscope.sock` (systemd's
    /// RuntimeDirectory=), else `$XDG_RUNTIME_DIR/deepscope.sock`, else /tmp/deepscope-UID.sock.
    public static func defaultPath(configured: String? = nil, environment: [String: String]) -> String {
        if let configured { return configured }
        if let r = environment["RUNTIME_DIRECTORY"], !r.isEmpty {
            // systemd may list several folders separated by colons: the first is ours.
            return String(r.split(separator: ":").first ?? Substring(r)) + "/deepscope.sock"
        }
        if let x = environment["XDG_RUNTIME_DIR"], !x.isEmpty { return x + "/deepscope.sock" }
        return "/tmp/deepscope-\(getuid()).sock"
    }

    /// Binds `path` (mode 0660) and listens; a stale socket left by a crashed daemon is replaced,
    /// a live one (another daemon answers there) is not.
    public init(path: String, queue: CommandQueue) throws(ControlSocketError) {
        self.path = path
        self.queue = queue
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw ControlSocketError(description: "The control socket path \(path) is longer than \(MemoryLayout.size(ofValue: address.sun_path) - 1) bytes.")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        var info = stat()
        if lstat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFSOCK else {
                throw ControlSocketError(description: "The control socket path \(path) exists and is not a socket.")
            }
            if Self.connect(&address) {
                throw ControlSocketError(description: "Another deepscope daemon answers on \(path); stop it or give another socket path.")
            }
            unlink(path)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw ControlSocketError(description: "The control socket \(path) could not be made: \(errnoReason(errno)).") }
        let bound = withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, chmod(path, 0o660) == 0, listen(fd, 64) == 0 else {
            let reason = errnoReason(errno)
            close(fd)
            throw ControlSocketError(description: "The control socket \(path) could not be opened: \(reason).")
        }
        listener = fd
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else {
            let reason = errnoReason(errno)
            close(fd)
            unlink(path)
            throw ControlSocketError(description: "The control socket \(path) could not be opened: \(reason).")
        }
        for e in ends { Self.makeNonBlocking(e) }
        wakeRead = ends[0]
        wakeWrite = ends[1]
    }

    deinit { stop() }

    /// Non-blocking and closed on exec (plain POSIX: Glibc's module leaves out accept4 and pipe2).
    private static func makeNonBlocking(_ fd: Int32) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    }

    private static func connect(_ address: inout sockaddr_un) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 }
        }
    }

    public func start() {
        guard thread == nil else { return }
        thread = WorkerThread(name: "ds-control") { [self] in serve() }
    }

    /// Ends the thread, closes every client and removes the socket file. Idempotent.
    public func stop() {
        let first: Bool = monitor.withLock {
            defer { stopping = true }
            return !stopping
        }
        guard first else { return }
        wake()
        thread?.join()
        thread = nil
        close(listener)
        close(wakeRead)
        close(wakeWrite)
        unlink(path)
    }

    /// Hands a reply to client `id` (any thread).
    func deliver(_ reply: ControlReply, to id: UInt64) {
        let line = reply.line
        monitor.withLock { replies.append((id, line)) }
        wake()
    }

    private func wake() {
        var one: UInt8 = 1
        _ = write(wakeWrite, &one, 1)   // a full pipe is awake already
    }

    // MARK: - The thread

    private func serve() {
        var clients: [Client] = []
        var nextID: UInt64 = 1
        var fds: [pollfd] = []
        fds.reserveCapacity(Self.maximumClients + 2)
        while !monitor.withLock({ stopping }) {
            fds.removeAll(keepingCapacity: true)
            fds.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0))
            fds.append(pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0))
            for c in clients {
                var events: Int32 = 0
                if !c.inFlight && !c.closing { events |= Int32(POLLIN) }
                if !c.output.isEmpty { events |= Int32(POLLOUT) }
                fds.append(pollfd(fd: c.fd, events: Int16(events), revents: 0))
            }
            let n = poll(&fds, nfds_t(fds.count), 1000)
            if n < 0 && errno != EINTR { break }
            let now = MonotonicClock.now()
            if fds[1].revents != 0 {
                var drain = [UInt8](repeating: 0, count: 256)
                while drain.withUnsafeMutableBytes({ read(wakeRead, $0.baseAddress, $0.count) }) > 0 {}
            }
            // Replies from the owner.
            let arrived: [(client: UInt64, line: String)] = monitor.withLock {
                defer { replies.removeAll(keepingCapacity: true) }
                return replies
            }
            for r in arrived {
                guard let c = clients.first(where: { $0.id == r.client }) else { continue }   // gone meanwhile
                c.inFlight = false
                send(r.line, to: c)
            }
            for (i, c) in clients.enumerated() {
                let revents = Int32(fds[i + 2].revents)
                if revents & (Int32(POLLERR) | Int32(POLLNVAL)) != 0 { c.closing = true; c.output.removeAll() ; continue }
                if revents & Int32(POLLOUT) != 0 { flush(c) }
                if revents & (Int32(POLLIN) | Int32(POLLHUP)) != 0 { receive(c, now: now) }
            }
            // Lines already buffered behind a request that has just been answered.
            for c in clients where !c.inFlight && !c.closing { handleLines(c) }
            if fds[0].revents & Int16(POLLIN) != 0 {
                acceptClients(&clients, nextID: &nextID, now: now)
            }
            clients.removeAll { c in
                let idle = !c.inFlight && now &- c.lastActivity > Self.idleTimeout
                let done = (c.closing && c.output.isEmpty && !c.inFlight) || idle || c.output.count > Self.maximumPendingOutput
                if done { close(c.fd) }
                return done
            }
        }
        // Stopping: the replies already made (a `quit`'s among them) still go out.
        let last: [(client: UInt64, line: String)] = monitor.withLock { replies }
        for r in last {
            if let c = clients.first(where: { $0.id == r.client }) { send(r.line, to: c) }
        }
        for c in clients { close(c.fd) }
    }

    private func acceptClients(_ clients: inout [Client], nextID: inout UInt64, now: UInt64) {
        while true {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { return }
            Self.makeNonBlocking(fd)
            let c = Client(fd: fd, id: nextID, now: now)
            nextID += 1
            if clients.count >= Self.maximumClients {
                send(ControlReply.refused("The daemon has \(Self.maximumClients) clients already; try again later.").line, to: c)
                close(fd)
                continue
            }
            clients.append(c)
        }
    }

    private func receive(_ c: Client, now: UInt64) {
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(c.fd, $0.baseAddress, $0.count) }
            if n > 0 {
                c.lastActivity = now
                c.input.append(contentsOf: chunk[0..<n])
                if c.input.count > Self.maximumLine * 2 { break }   // handle what is there first
                continue
            }
            if n == 0 {
                // The client closed its end: answer what it sent, then close.
                c.closing = true
            } else if errno != EAGAIN && errno != EINTR {
                c.closing = true
                c.output.removeAll()
            }
            break
        }
        handleLines(c)
    }

    /// Answers complete lines until one has to wait for the owner.
    private func handleLines(_ c: Client) {
        while !c.inFlight {
            guard let newline = c.input.firstIndex(of: UInt8(ascii: "\n")) else {
                if c.input.count > Self.maximumLine {
                    send(ControlReply.refused("The request line is longer than \(Self.maximumLine) bytes; the connection is closed.").line, to: c)
                    c.input.removeAll()
                    c.closing = true
                }
                return
            }
            let end = newline > 0 && c.input[newline - 1] == UInt8(ascii: "\r") ? newline - 1 : newline
            let tooLong = newline > Self.maximumLine
            let line = tooLong ? [] : Array(c.input[0..<end])
            c.input.removeSubrange(0...newline)
            if tooLong {
                send(ControlReply.refused("The request line is longer than \(Self.maximumLine) bytes; the connection is closed.").line, to: c)
                c.input.removeAll()
                c.closing = true
                return
            }
            if line.allSatisfy({ $0 == 32 || $0 == 9 }) { continue }   // blank lines are ignored
            let command: ControlCommand
            do throws(ControlRefusal) { command = try ControlCommand.parse(line: line) } catch {
                send(ControlReply.refused(error.description).line, to: c)
                continue
            }
            let id = c.id
            c.inFlight = true
            let posted = queue.post(command) { [weak self] reply in self?.deliver(reply, to: id) }
            if !posted {
                c.inFlight = false
                send(ControlReply.refused("The daemon is busy (\(CommandQueue.capacity) requests waiting); try again.").line, to: c)
            }
        }
    }

    private func send(_ line: String, to c: Client) {
        c.output.append(contentsOf: line.utf8)
        c.output.append(UInt8(ascii: "\n"))
        flush(c)
    }

    private func flush(_ c: Client) {
        while !c.output.isEmpty {
            let n = c.output.withUnsafeBytes { Glibc.send(c.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                c.output.removeFirst(n)
            } else {
                if n < 0 && errno != EAGAIN && errno != EINTR {
                    c.output.removeAll()
                    c.closing = true
                }
                return
            }
        }
    }
}
