// The daemon's services beside the frame loop: the control socket's requests, the service
// manager's notifications (READY, WATCHDOG, STOPPING) and configuration reloads on SIGHUP.

import Engine
import Foundation
import Imaging
import Interface
import Logging
import Support
import Visualization

/// What control requests act on: the thread that owns the selection — the window's UI thread,
/// or headless the main thread. Requests change the selection exactly as the window's keys do.
public protocol ControlTarget: AnyObject {
    var controller: Controller { get }
    /// False while the view being recorded off-screen keeps its start selection.
    var canChangeSelection: Bool { get }
    /// Changes the selection as a key would: the request goes to the inference thread and the
    /// change is logged.
    func updateSelection(_ change: (inout Controller) -> Void)
    /// The newest composed view's pixels (RGBA), composing it first where nothing shows it, or
    /// why there is none.
    func composedView() -> Result<(pixels: [UInt8], width: Int, height: Int), ControlRefusal>
    /// The file being recorded, if any.
    var recordingPath: String? { get }
    /// Starts recording the view into `path`; nil, or why not.
    func beginRecording(_ path: String) -> String?
    /// Stops recording; what was saved, or why it failed.
    func endRecording() -> (saved: Bool, message: String)?
    /// Where K and R save from now on.
    func setRecordingsFolder(_ path: String)
    func requestQuit()
}

/// The control socket, sd_notify and SIGHUP reloads for one session.
public final class DaemonControl: @unchecked Sendable {
    public let notifier: ServiceNotifier
    public let queue = CommandQueue()
    public let server: ControlServer?
    /// Prometheus text on the configured local address (nil: not configured).
    public let metrics: MetricsServer?
    /// The recording state as last seen by the owner, for the metrics thread.
    private let shared = Monitor()
    private var recordingNow: String?
    private let logger: Logger
    /// The configuration file and what it said last (nil: none given).
    private let configPath: String?
    private var fileConfiguration: DaemonConfiguration
    /// Keys given on the command line, which a reload does not change.
    private let overridden: Set<String>
    /// Where `record start` and `snapshot` without a file save.
    public private(set) var recordings: String
    private var rate = RecentRate()
    private let startTime = MonotonicClock.now()
    private let writers = Monitor()
    private var writing: [WorkerThread] = []
    private var stopped = false

    /// - Parameters:
    ///   - socketPath: where to listen (nil: no control socket).
    ///   - configPath: the file SIGHUP re-reads (nil: none).
    ///   - configuration: what it said at start.
    ///   - overridden: its keys given on the command line too (those win, at start and on reload).
    ///   - metricsAddress: where to serve Prometheus text (nil: nowhere).
    /// - Throws: `ControlSocketError` when the socket or the metrics address cannot be opened.
    public init(socketPath: String?, configPath: String?, configuration: DaemonConfiguration, overridden: Set<String>,
                recordings: String, metricsAddress: MetricsAddress? = nil, notifier: ServiceNotifier,
                logger: Logger) throws(ControlSocketError) {
        self.notifier = notifier
        self.logger = logger
        self.configPath = configPath
        fileConfiguration = configuration
        self.overridden = overridden
        self.recordings = recordings
        let queue = self.queue
        server = try socketPath.map { p throws(ControlSocketError) in try ControlServer(path: p, queue: queue) }
        do throws(ControlSocketError) {
            metrics = try metricsAddress.map { a throws(ControlSocketError) in try MetricsServer(address: a) }
        } catch {
            server?.stop()
            throw error
        }
        if configPath != nil { ReloadSignal.install() }
    }

    deinit { stop() }

    /// Wires the watchdog into the frame loop; call before the session starts.
    public func attach(to session: Session) {
        let notifier = self.notifier
        session.pipeline.onHeartbeat = { notifier.frameLoopAlive() }
        let pipeline = session.pipeline, start = startTime
        metrics?.collect = { [weak self] in
            SessionMetrics(pipeline: pipeline, recording: self?.shared.withLock { self?.recordingNow } ?? nil,
                           uptimeSeconds: Double(MonotonicClock.now() - start) / 1e9, recentInferenceFPS: nil,
                           watchdogPings: notifier.watchdogPings)
        }
    }

    /// The camera is open, the model loaded and the threads running: tell the service manager.
    public func started(_ session: Session) {
        server?.start()
        if let server { logger.info("Control socket listening on \(server.path) (`deepscope ctl status`).") }
        metrics?.start()
        if let metrics { logger.info("Metrics served as Prometheus text on http://\(metrics.address)/metrics.") }
        if let interval = notifier.watchdogInterval {
            logger.info("Watchdog: pinging every \(String(format: "%.1f", Double(interval) / 2e9)) s from the frame loop.")
        }
        notifier.ready(status: "Running \(session.model.url.lastPathComponent) on \(session.pipeline.source.name)")
    }

    /// Applies what arrived: a reload after SIGHUP, then the queued requests. Called often by the
    /// thread that owns `target`.
    public func poll(_ session: Session, target: ControlTarget) {
        if configPath != nil && ReloadSignal.take() { reload(session, target: target) }
        for request in queue.take() {
            if let reply = apply(request.command, session: session, target: target, answer: request.answer) {
                request.answer(reply)
            }
        }
        if metrics != nil {
            let path = target.recordingPath
            shared.withLock { recordingNow = path }
        }
    }

    /// Stops the socket (its file removed) and says so to the service manager. Idempotent.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        notifier.stopping()
        for w in writers.withLock({ writing }) { w.join() }   // their replies go out before the socket closes
        server?.stop()
        metrics?.stop()
    }

    // MARK: - Requests

    /// The reply to `command`, or nil when `answer` is called later (a snapshot being written).
    func apply(_ command: ControlCommand, session: Session, target: ControlTarget,
               answer: @escaping @Sendable (ControlReply) -> Void) -> ControlReply? {
        switch command {
        case .status:
            return ControlReply(status(session, target: target))
        case .select, .mode:
            guard target.canChangeSelection else {
                return .refused("The selection is fixed while the view is recorded off-screen (run --headless --record); stop the daemon to change it.")
            }
            return applySelection(command, session: session, target: target)
        case .freeze(let on):
            target.updateSelection { $0.setFrozen(on) }
            return ControlReply(["frozen": on])
        case .record(let start):
            if start {
                if let path = target.recordingPath { return .refused("Already recording to \(path).") }
                let path = (recordings as NSString).appendingPathComponent("deepscope-\(Self.timestamp()).mp4")
                if let why = target.beginRecording(path) { return .refused(why) }
                return ControlReply(["recording": true, "path": path])
            }
            guard let path = target.recordingPath, let (saved, message) = target.endRecording() else {
                return .refused("Not recording.")
            }
            return saved ? ControlReply(["recording": false, "path": path, "saved": message]) : .refused(message)
        case .snapshot(let file):
            let path = file.map { ($0 as NSString).isAbsolutePath ? $0 : (recordings as NSString).appendingPathComponent($0) }
                ?? (recordings as NSString).appendingPathComponent("deepscope-\(Self.timestamp()).png")
            let view: (pixels: [UInt8], width: Int, height: Int)
            switch target.composedView() {
            case .failure(let why): return .refused(why.description)
            case .success(let v): view = v
            }
            let log = logger
            // Encoded on a thread of its own; the reply goes out once the file is complete.
            let worker = WorkerThread(name: "ds-ctl-snapshot") {
                do {
                    try view.pixels.withUnsafeBufferPointer { (p) throws(ImageError) in
                        try writePNG(pixels: p.baseAddress!, width: view.width, height: view.height, channels: 4, to: path)
                    }
                    log.info("Snapshot saved to \(path).")
                    answer(ControlReply(["snapshot": path, "width": view.width, "height": view.height]))
                } catch {
                    log.warning("The snapshot could not be saved: \(error)")
                    answer(.refused("The snapshot could not be saved: \(error)"))
                }
            }
            writers.withLock { writing.append(worker) }
            return nil
        case .quit:
            logger.info("Quit requested on the control socket.")
            target.requestQuit()
            return ControlReply(["quitting": true])
        }
    }

    /// `select` and `mode`: changed as the window's keys change them.
    private func applySelection(_ command: ControlCommand, session: Session, target: ControlTarget) -> ControlReply {
        switch command {
        case .select(let name, let unit):
            guard let builder = session.pipeline.visual?.builder else { return .refused("This session has no layers to select.") }
            let layer: Int
            do throws(SessionError) {
                layer = try Session.layerIndex(name, builder: builder, graph: session.network.graph, path: session.model.url.path)
            } catch { return .refused(error.description) }
            let channels = builder.layerShapes[layer].channels
            if let unit, unit >= channels {
                return .refused("Unit \(unit) is out of range: layer \(name) has \(channels) units (0…\(channels - 1)).")
            }
            target.updateSelection { c in
                c.selectLayer(layer)
                if let unit { c.selectUnit(unit) }
            }
            return ControlReply(["layer": name, "unit": target.controller.view.unit])
        case .mode(let mode):
            target.updateSelection { $0.setMode(mode) }
            return ControlReply(["mode": mode?.rawValue ?? "off"])
        default:
            return .refused("Not a selection request.")
        }
    }

    func status(_ session: Session, target: ControlTarget) -> [String: Any] {
        let now = MonotonicClock.now()
        let inferred = session.pipeline.inferredFrames
        let fps = rate.rate(now: now, count: inferred)
        let metrics = SessionMetrics(pipeline: session.pipeline, recording: target.recordingPath,
                                     uptimeSeconds: Double(now - startTime) / 1e9, recentInferenceFPS: fps,
                                     watchdogPings: notifier.watchdogPings)
        var fields = metrics.fields
        let c = target.controller
        fields["model"] = session.model.url.path
        fields["layer"] = c.layerNames[c.view.layer]
        fields["unit"] = c.view.unit
        fields["mode"] = c.view.mode?.rawValue ?? "off"
        fields["frozen"] = c.request.frozen
        fields["recordings"] = recordings
        fields["pid"] = Int(getpid())
        if let last = session.pipeline.latestClassification {
            fields["top"] = last.top3.entries.map { e -> [String: Any] in
                ["index": e.index, "label": session.model.label(e.index), "prob": SessionMetrics.round3(Double(e.probability))]
            }
        }
        return fields
    }

    // MARK: - Reload

    /// Re-reads the configuration file and applies what can change live; a bad file changes nothing.
    func reload(_ session: Session, target: ControlTarget) {
        guard let configPath else { return }
        notifier.reloading()
        defer { notifier.reloaded(status: "Running \(session.model.url.lastPathComponent) on \(session.pipeline.source.name)") }
        let new: DaemonConfiguration
        do throws(ConfigurationError) { new = try DaemonConfiguration.load(path: configPath) } catch {
            logger.warning("Reload refused, the running configuration is kept: \(error.description)")
            return
        }
        var (live, restart) = new.changes(from: fileConfiguration)
        restart.removeAll { overridden.contains($0) }
        // Check everything before changing anything.
        var layer: Int?
        if new.layer != fileConfiguration.layer, !overridden.contains("layer"), let name = new.layer {
            guard let builder = session.pipeline.visual?.builder else {
                logger.warning("Reload refused, the running configuration is kept: this session has no layers to select.")
                return
            }
            do throws(SessionError) {
                layer = try Session.layerIndex(name, builder: builder, graph: session.network.graph, path: session.model.url.path)
            } catch {
                logger.warning("Reload refused, the running configuration is kept: the configuration file \(configPath) has a bad value for 'layer': \(error.description)")
                return
            }
        }
        if let unit = new.unit, new.unit != fileConfiguration.unit, !overridden.contains("unit"),
           let shapes = session.pipeline.visual?.builder.layerShapes {
            let channels = shapes[layer ?? target.controller.view.layer].channels
            guard unit < channels else {
                logger.warning("Reload refused, the running configuration is kept: the configuration file \(configPath) has a bad value for 'unit': \(unit) is out of range (0…\(channels - 1)).")
                return
            }
        }
        let kept = live.filter { change in overridden.contains(where: { change.hasPrefix($0 + " ") }) }
        live.removeAll { kept.contains($0) }
        target.updateSelection { c in
            if let layer { c.selectLayer(layer) }
            if new.unit != fileConfiguration.unit, !overridden.contains("unit"), let unit = new.unit { c.selectUnit(unit) }
            if new.mode != fileConfiguration.mode, !overridden.contains("mode"), let mode = new.mode { c.setMode(mode) }
        }
        if new.recordings != fileConfiguration.recordings, !overridden.contains("recordings") {
            let folder = new.recordings ?? "."
            recordings = folder
            target.setRecordingsFolder(folder)
        }
        fileConfiguration = new
        var line = "Configuration reloaded from \(configPath): "
        line += live.isEmpty ? "nothing to change live" : "changed " + live.joined(separator: ", ")
        if !kept.isEmpty { line += "; kept from the command line: " + kept.joined(separator: ", ") }
        if !restart.isEmpty { line += "; \(restart.joined(separator: ", ")) take effect on restart" }
        logger.info("\(line).")
    }

    static func timestamp() -> String {
        var t = time(nil)
        var value = tm()
        localtime_r(&t, &value)
        var buffer = [CChar](repeating: 0, count: 32)
        strftime(&buffer, buffer.count, "%Y%m%d-%H%M%S", &value)
        return String(cString: buffer)
    }
}
