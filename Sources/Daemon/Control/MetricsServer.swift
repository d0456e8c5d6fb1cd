// Prometheus text on a configured local address (`metrics = "127.0.0.1:9464"`): the numbers of
// `ctl status` as gauges and counters (swift-prometheus: a registry and the exposition format,
// light to build — swift-atomics and swift-metrics' CoreMetrics), served by a minimal HTTP/1.0
// responder on a poll(2) loop of its own rather than swift-nio or Hummingbird (minutes of CI
// build for one GET a scrape interval).

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Prometheus
import Support

/// Serves `GET /metrics` on a loopback address; anything else is 404. Never touches the frame loop:
/// each scrape reads the pipeline's thread-safe counters.
public final class MetricsServer: @unchecked Sendable {
    public let address: MetricsAddress
    private let listener: Int32
    /// Where each scrape's numbers come from (set before `start`; nil: 503 until it is).
    public var collect: (@Sendable () -> SessionMetrics)?
    private let registry: PrometheusCollectorRegistry
    private let monitor = Monitor()
    private var stopping = false
    private var thread: WorkerThread?
    private var counted: [String: UInt64] = [:]
    private let counters: [String: Counter]
    private let gauges: [String: Gauge]

    /// Binds `address` and listens. - Throws: `ControlSocketError` naming the address.
    public init(address: MetricsAddress) throws(ControlSocketError) {
        self.address = address
        let v6 = address.host.contains(":")
        let fd = socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw ControlSocketError(description: "The metrics address \(address) could not be opened: \(errnoReason(errno)).", metrics: true) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var result: Int32
        if v6 {
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            a.sin6_port = address.port.bigEndian
            inet_pton(AF_INET6, address.host, &a.sin6_addr)
            result = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        } else {
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = address.port.bigEndian
            inet_pton(AF_INET, address.host, &a.sin_addr)
            result = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        guard result == 0, listen(fd, 16) == 0 else {
            let reason = errnoReason(errno)
            close(fd)
            throw ControlSocketError(description: "The metrics address \(address) could not be opened: \(reason).", metrics: true)
        }
        listener = fd
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        func counter(_ name: String, _ help: String) -> Counter {
            registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "deepscope", metricName: name, unitName: "total", helpText: help))
        }
        counters = [
            "captured": counter("frames_captured", "Frames the capture thread published."),
            "inferred": counter("frames_inferred", "Frames the network classified."),
            "dropped": counter("frames_dropped", "Frames captured but never classified."),
            "faults": counter("capture_faults", "Capture faults (the source stopped delivering)."),
            "reconnects": counter("capture_reconnects", "Capture recoveries after a fault."),
        ]
        var g: [String: Gauge] = [:]
        let fps = MetricNameDescriptor(namespace: "deepscope", metricName: "frame_rate", unitName: "hertz", helpText: "Frames per second by stage.")
        g["fps.capture"] = registry.makeGauge(descriptor: fps, labels: [("stage", "capture")])
        g["fps.inference"] = registry.makeGauge(descriptor: fps, labels: [("stage", "inference")])
        let latency = MetricNameDescriptor(namespace: "deepscope", metricName: "stage_latency", unitName: "seconds",
                                           helpText: "Per-stage latency percentiles over the recent frames.")
        for stage in ["preprocess", "forward", "capture_to_result"] {
            for q in ["0.5", "0.99"] { g["\(stage).\(q)"] = registry.makeGauge(descriptor: latency, labels: [("stage", stage), ("quantile", q)]) }
        }
        g["recording"] = registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "deepscope", metricName: "recording", unitName: "",
                                                                               helpText: "1 while a recording runs."))
        g["uptime"] = registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "deepscope", metricName: "uptime", unitName: "seconds",
                                                                            helpText: "Seconds since the session started."))
        gauges = g
    }

    deinit { stop() }

    public func start() {
        guard thread == nil else { return }
        thread = WorkerThread(name: "ds-metrics") { [self] in serve() }
    }

    public func stop() {
        let first: Bool = monitor.withLock {
            defer { stopping = true }
            return !stopping
        }
        guard first else { return }
        thread?.join()
        thread = nil
        close(listener)
    }

    /// The exposition text for the newest numbers (nil before the session runs).
    public func render() -> String? {
        guard let m = collect?() else { return nil }
        let r = m.report
        let totals: [String: UInt64] = ["captured": r.captured, "inferred": r.inferred, "dropped": r.dropped,
                                        "faults": UInt64(max(0, r.faults)), "reconnects": UInt64(max(0, r.recoveries))]
        return monitor.withLock {
            for (key, value) in totals {
                let before = counted[key] ?? 0
                if value > before { counters[key]?.increment(by: Int64(value - before)) }
                counted[key] = max(before, value)
            }
            gauges["fps.capture"]?.set(r.captureFramesPerSecond)
            gauges["fps.inference"]?.set(m.recentInferenceFPS)
            for (stage, t) in [("preprocess", r.preprocess), ("forward", r.forward), ("capture_to_result", r.latency)] {
                gauges["\(stage).0.5"]?.set(t.medianMilliseconds / 1000)
                gauges["\(stage).0.99"]?.set(t.p99Milliseconds / 1000)
            }
            gauges["recording"]?.set(Double(m.recording == nil ? 0 : 1))
            gauges["uptime"]?.set(m.uptimeSeconds)
            return registry.emitToString()
        }
    }

    private final class Client {
        let fd: Int32
        var request: [UInt8] = []
        var response: [UInt8] = []
        let since: UInt64
        init(fd: Int32, since: UInt64) { self.fd = fd; self.since = since }
    }

    private func serve() {
        var clients: [Client] = []
        var fds: [pollfd] = []
        while !monitor.withLock({ stopping }) {
            fds.removeAll(keepingCapacity: true)
            fds.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0))
            for c in clients { fds.append(pollfd(fd: c.fd, events: Int16(c.response.isEmpty ? POLLIN : POLLOUT), revents: 0)) }
            _ = poll(&fds, nfds_t(fds.count), 200)
            let now = MonotonicClock.now()
            for (i, c) in clients.enumerated() where fds[i + 1].revents != 0 {
                if c.response.isEmpty { read(c) }
                if !c.response.isEmpty {
                    let n = c.response.withUnsafeBytes { send(c.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if n > 0 { c.response.removeFirst(n) } else if errno != EAGAIN { c.response.removeAll(); c.request = [0] }
                    if c.response.isEmpty { c.request = [0] }   // answered: close
                }
            }
            if fds[0].revents != 0 {
                while clients.count < 16 {
                    let fd = accept(listener, nil, nil)
                    guard fd >= 0 else { break }
                    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                    clients.append(Client(fd: fd, since: now))
                }
            }
            clients.removeAll { c in
                let done = (c.request == [0] && c.response.isEmpty) || now &- c.since > 5 * Nanoseconds.second
                if done { close(c.fd) }
                return done
            }
        }
        for c in clients { close(c.fd) }
    }

    private func read(_ c: Client) {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let n = chunk.withUnsafeMutableBytes { recv(c.fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 {
            if n == 0 || errno != EAGAIN { c.request = [0] }
            return
        }
        c.request.append(contentsOf: chunk[0..<n])
        let text = String(decoding: c.request, as: UTF8.self)
        guard text.contains("\r\n\r\n") || text.contains("\n\n") || c.request.count > 8192 else { return }
        let first = text.split(separator: "\r\n", maxSplits: 1).first.map(String.init) ?? ""
        let parts = first.split(separator: " ")
        let body: String, status: String
        if parts.count >= 2, parts[0] == "GET", parts[1] == "/metrics" || parts[1] == "/" {
            if let text = render() {
                body = text
                status = "200 OK"
            } else {
                body = "Not running yet.\n"
                status = "503 Service Unavailable"
            }
        } else {
            body = "Only GET /metrics is served here.\n"
            status = "404 Not Found"
        }
        let head = "HTTP/1.0 \(status)\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
        c.response = Array((head + body).utf8)
    }
}
