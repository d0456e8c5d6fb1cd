import Capture
import Daemon
import Glibc
import Support
import Testing

@Suite("Reports and log lines")
struct ReportTests {
    @Test("fault and recovery events read as one sentence each")
    func logLines() {
        #expect(CaptureEvent.fault(.disconnected(source: "camera /dev/video0", code: ENODEV), retryingIn: 250_000_000).logLine
                == "Camera /dev/video0 was disconnected (ENODEV); showing no signal and reconnecting (first retry in 0.25 s).")
        #expect(CaptureEvent.fault(.stalled(source: "camera /dev/video0", seconds: 2), retryingIn: 250_000_000).logLine
                == "Camera /dev/video0 sent no frame for 2 s; showing no signal and restarting it (first retry in 0.25 s).")
        #expect(CaptureEvent.fault(.busy(source: "camera /dev/video1"), retryingIn: 500_000_000).logLine
                == "Camera /dev/video1 is busy: another program is using it (EBUSY); showing no signal and reconnecting (first retry in 0.50 s).")
        #expect(CaptureEvent.recovered(source: "camera /dev/video0", detail: "640×480 RGB24 at 30 fps", downtime: 3_240_000_000).logLine
                == "Camera /dev/video0 is back after 3.2 s: 640×480 RGB24 at 30 fps.")
    }

    @Test("the report sums up: dropped is captured minus inferred")
    func report() {
        let t = TimingSummary(nanoseconds: [1_000_000, 2_000_000, 3_000_000])
        let r = PipelineReport(source: "synthetic scene", detail: "640×480", captured: 10, inferred: 7, elapsedSeconds: 1,
                               inferenceSeconds: 1, captureFramesPerSecond: 10, captureCPU: t, preprocess: t, forward: t,
                               latency: t, faults: 0, recoveries: 0, state: .live)
        #expect(r.dropped == 3)
        #expect(r.lines[1] == "frames      captured 10, inferred 7, dropped 3 in 1.0 s")
        #expect(r.lines[3] == "preprocess  median 2.00 ms, p99 3.00 ms")
    }
}
