// What a run of the pipeline did, for the summary printed on exit and for log lines.

import Capture
import Support

/// Counts and per-stage timings of a pipeline run.
public struct PipelineReport: Sendable {
    public var source: String
    public var detail: String
    /// Frames the capture thread published.
    public var captured: UInt64
    /// Frames the inference thread classified.
    public var inferred: UInt64
    /// Frames captured but never classified (replaced in the mailbox by a newer one, or left at exit).
    public var dropped: UInt64 { captured > inferred ? captured - inferred : 0 }
    /// Seconds the capture thread ran.
    public var elapsedSeconds: Double
    /// Seconds from the start to the last inferred frame.
    public var inferenceSeconds: Double
    public var captureFramesPerSecond: Double
    /// Capture thread CPU time per frame.
    public var captureCPU: TimingSummary
    public var preprocess: TimingSummary
    public var forward: TimingSummary
    /// From capture to the top-1 result.
    public var latency: TimingSummary
    public var faults: Int
    public var recoveries: Int
    public var state: SourceState

    public init(source: String, detail: String, captured: UInt64, inferred: UInt64, elapsedSeconds: Double,
                inferenceSeconds: Double, captureFramesPerSecond: Double, captureCPU: TimingSummary,
                preprocess: TimingSummary, forward: TimingSummary, latency: TimingSummary, faults: Int,
                recoveries: Int, state: SourceState) {
        self.source = source
        self.detail = detail
        self.captured = captured
        self.inferred = inferred
        self.elapsedSeconds = elapsedSeconds
        self.inferenceSeconds = inferenceSeconds
        self.captureFramesPerSecond = captureFramesPerSecond
        self.captureCPU = captureCPU
        self.preprocess = preprocess
        self.forward = forward
        self.latency = latency
        self.faults = faults
        self.recoveries = recoveries
        self.state = state
    }

    public var inferenceFramesPerSecond: Double {
        inferenceSeconds > 0 ? Double(inferred) / inferenceSeconds : 0
    }

    /// The summary printed when `run` ends.
    public var lines: [String] {
        let timing = timingText
        var out = [
            "source      \(source): \(detail)",
            "frames      captured \(captured), inferred \(inferred), dropped \(dropped) in \(fixed(elapsedSeconds, 1)) s",
            "capture     \(fixed(captureFramesPerSecond, 1)) fps; CPU per frame \(timing(captureCPU))",
            "preprocess  \(timing(preprocess))",
            "forward     \(timing(forward)); \(fixed(inferenceFramesPerSecond, 1)) frames/s inferred",
            "latency     \(timing(latency)) (capture to top-1)",
        ]
        if faults > 0 {
            out.append("faults      \(faults) (\(recoveries) recovered)" + (state == .live ? "" : "; no signal at exit"))
        }
        return out
    }

    /// The same as a JSON-ready dictionary.
    public var jsonObject: [String: Any] {
        func timing(_ s: TimingSummary) -> [String: Any] {
            ["median_ms": round3(s.medianMilliseconds), "p99_ms": round3(s.p99Milliseconds), "samples": s.count]
        }
        return [
            "source": source, "detail": detail, "captured": captured, "inferred": inferred, "dropped": dropped,
            "elapsed_s": round3(elapsedSeconds), "capture_fps": round3(captureFramesPerSecond),
            "capture_cpu": timing(captureCPU), "preprocess": timing(preprocess), "forward": timing(forward),
            "latency": timing(latency), "faults": faults, "recoveries": recoveries,
        ]
    }
}

/// "median 1.23 ms, p99 4.56 ms", or "no samples".
func timingText(_ s: TimingSummary) -> String {
    s.window == 0 ? "no samples" : "median \(fixed(s.medianMilliseconds, 2)) ms, p99 \(fixed(s.p99Milliseconds, 2)) ms"
}

/// `x` with `digits` decimals.
func fixed(_ x: Double, _ digits: Int) -> String {
    guard x.isFinite else { return "-" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let r = (abs(x) * scale).rounded()
    let whole = Int(r / scale)
    var text = (x < 0 && r > 0 ? "-" : "") + String(whole)
    if digits > 0 {
        let fraction = Int(r) - whole * Int(scale)
        let digitsText = String(fraction)
        text += "." + String(repeating: "0", count: digits - digitsText.count) + digitsText
    }
    return text
}

func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }

extension CaptureEvent {
    /// One sentence for stderr: what happened and what capture does about it.
    public var logLine: String {
        switch self {
        case .fault(let fault, let retry):
            let action = fault.kind == .stalled ? "restarting it" : "reconnecting"
            return "\(capitalized(fault.description)); showing no signal and \(action) (first retry in \(fixed(Double(retry) / 1e9, 2)) s)."
        case .recovered(let source, let detail, let downtime):
            return "\(capitalized(source)) is back after \(fixed(Double(downtime) / 1e9, 1)) s: \(detail)."
        case .ended(let source):
            return "\(capitalized(source)) has no more frames."
        }
    }
}

private func capitalized(_ s: String) -> String { s.prefix(1).uppercased() + s.dropFirst() }
