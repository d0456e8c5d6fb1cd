// The service manager's readiness and watchdog protocol (sd_notify): datagrams of "KEY=VALUE"
// lines sent to the Unix socket named by $NOTIFY_SOCKET. A few lines over a socket rather than
// libsystemd: nothing to link, and the protocol is stable and documented (sd_notify(3)).

#if canImport(Glibc)
import Glibc
#endif
import Support
import Synchronization

/// Sends state changes to the service manager when it asked for them ($NOTIFY_SOCKET set), and
/// nothing otherwise. Safe to call from any thread.
public final class ServiceNotifier: @unchecked Sendable {
    /// The socket's address as given ("/run/systemd/notify", or "@name" for an abstract one).
    public let socketPath: String?
    /// The watchdog interval the manager expects pings within ($WATCHDOG_USEC), if it set one
    /// for this process ($WATCHDOG_PID absent or ours).
    public let watchdogInterval: UInt64?
    private let fd: Int32
    private let lastPing = Atomic<UInt64>(0)
    private let pings = Atomic<UInt64>(0)

    /// Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID from `environment`.
    public init(environment: [String: String]) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socketPath = path
        var interval: UInt64?
        if let usec = environment["WATCHDOG_USEC"].flatMap({ UInt64($0) }), usec > 0 {
            let pid = environment["WATCHDOG_PID"].flatMap { Int32($0) }
            if pid == nil || pid == getpid() { interval = usec * 1000 }
        }
        watchdogInterval = interval
        fd = path == nil ? -1 : socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    }

    deinit { if fd >= 0 { close(fd) } }

    /// True when a service manager listens.
    public var isActive: Bool { fd >= 0 }

    /// Sends one state message ("READY=1\nSTATUS=…"); returns false when it could not be sent
    /// (no manager, or the socket is gone: the daemon goes on either way).
    @discardableResult
    public func send(_ state: String) -> Bool {
        guard fd >= 0, let path = socketPath else { return false }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }   // an abstract address
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        // An abstract address's length counts its bytes exactly; a path's includes the NUL.
        let length = MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == 0 ? 0 : 1)
        let message = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { a in
                message.withUnsafeBytes { m in
                    sendto(fd, m.baseAddress, m.count, Int32(MSG_NOSIGNAL), a, socklen_t(length))
                }
            }
        }
        return sent == message.count
    }

    /// "READY=1" with a status line: the camera is open and the model loaded.
    /// The watchdog pings start after it.
    public func ready(status: String) {
        send("READY=1\nSTATUS=\(status)\nMAINPID=\(getpid())")
        lastPing.store(MonotonicClock.now(), ordering: .relaxed)
    }

    public func reloading() { send("RELOADING=1\nMONOTONIC_USEC=\(MonotonicClock.now() / 1000)") }

    public func reloaded(status: String) { send("READY=1\nSTATUS=\(status)") }

    public func stopping() { send("STOPPING=1") }

    /// Called from the frame loop on every turn: sends "WATCHDOG=1" at half the watchdog interval
    /// (as sd_watchdog_enabled(3) advises), so the pings stop as soon as the loop stalls.
    public func frameLoopAlive() {
        guard let interval = watchdogInterval, fd >= 0 else { return }
        let now = MonotonicClock.now()
        let last = lastPing.load(ordering: .relaxed)
        guard last != 0, now &- last >= interval / 2 else { return }   // 0: not ready yet
        lastPing.store(now, ordering: .relaxed)
        if send("WATCHDOG=1") { pings.add(1, ordering: .relaxed) }
    }

    /// Watchdog pings sent so far.
    public var watchdogPings: UInt64 { pings.load(ordering: .relaxed) }
}
