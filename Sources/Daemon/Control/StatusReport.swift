// What `ctl status` reports (and the metrics endpoint serves): the selection, frame rates,
// per-stage latency percentiles, dropped frames, reconnects and the recording state.

import Capture
import Foundation
import Support

/// The numbers a running session can report, read from the pipeline's thread-safe counters.
public struct SessionMetrics: Sendable {
    public var report: PipelineReport
    /// Frames the mailbox replaced before inference took them (the network was busy).
    public var mailboxDropped: UInt64
    /// Inferred frames per second over the last few seconds.
    public var recentInferenceFPS: Double
    public var uptimeSeconds: Double
    public var recording: String?
    public var watchdogPings: UInt64

    /// - Parameter recentInferenceFPS: the rate over the last seconds (nil: the mean of the run so far).
    public init(pipeline: Pipeline, recording: String?, uptimeSeconds: Double, recentInferenceFPS: Double?, watchdogPings: UInt64) {
        report = pipeline.report()
        mailboxDropped = pipeline.feeds.reduce(0) { $0 + $1.mailbox.statistics.dropped }
        self.recentInferenceFPS = recentInferenceFPS ?? report.inferenceFramesPerSecond
        self.uptimeSeconds = uptimeSeconds
        self.recording = recording
        self.watchdogPings = watchdogPings
    }

    static func percentiles(_ t: TimingSummary) -> [String: Any] {
        ["p50": round3(t.medianMilliseconds), "p99": round3(t.p99Milliseconds), "max": round3(t.maximumMilliseconds), "count": t.count]
    }

    static func round3(_ v: Double) -> Double { v.isFinite ? (v * 1000).rounded() / 1000 : 0 }

    /// The status reply's fields about frames and timings.
    public var fields: [String: Any] {
        let r = report
        let state: String
        switch r.state {
        case .starting: state = "starting"
        case .live: state = "live"
        case .noSignal: state = "no signal"
        case .ended: state = "ended"
        }
        return [
            "source": r.source, "source_state": state,
            "frames": ["captured": r.captured, "inferred": r.inferred, "dropped": r.dropped, "mailbox_dropped": mailboxDropped],
            "fps": ["capture": Self.round3(r.captureFramesPerSecond), "inference": Self.round3(recentInferenceFPS),
                    "inference_mean": Self.round3(r.inferenceFramesPerSecond)],
            "latency_ms": ["preprocess": Self.percentiles(r.preprocess), "forward": Self.percentiles(r.forward),
                           "capture_to_result": Self.percentiles(r.latency), "capture_cpu": Self.percentiles(r.captureCPU)],
            "faults": r.faults, "reconnects": r.recoveries,
            "recording": recording.map { ["active": true, "path": $0] as [String: Any] } ?? ["active": false],
            "uptime_s": Self.round3(uptimeSeconds), "watchdog_pings": watchdogPings,
        ]
    }
}

/// Frames per second over a sliding window of a few seconds, from (time, count) samples.
struct RecentRate {
    private var samples: [(time: UInt64, count: UInt64)] = []

    /// nil until two samples at least 0.2 s apart were seen.
    mutating func rate(now: UInt64, count: UInt64, window: UInt64 = 3 * Nanoseconds.second) -> Double? {
        samples.append((now, count))
        while samples.count > 2, let first = samples.first, now &- first.time > window { samples.removeFirst() }
        guard let first = samples.first, now &- first.time >= Nanoseconds.second / 5 else { return nil }
        return Double(count &- first.count) / (Double(now - first.time) / 1e9)
    }
}
