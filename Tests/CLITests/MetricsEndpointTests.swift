import Foundation
import Glibc
import Testing

/// `metrics = "127.0.0.1:PORT"`: Prometheus text over HTTP on a loopback address.
@Suite("Metrics endpoint", .serialized)
struct MetricsEndpointTests {
    @Test("GET /metrics serves the frame counts, rates and latency percentiles; other paths are 404")
    func scrape() throws {
        if let why = CLI.missing { Issue.record("skipped: \(why)"); return }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else { Issue.record("skipped: no curl"); return }
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = 20000 + Int(getpid() % 20000)
        let file = dir.appendingPathComponent("deepscope.toml")
        try "source = \"synthetic\"\nmode = \"off\"\nmetrics = \"127.0.0.1:\(port)\"\n".write(to: file, atomically: true, encoding: .utf8)
        let d = try DaemonProcess(["--config", file.path, "--headless", "--frames", "100000"])
        #expect(d.waitForLine(containing: "Metrics served as Prometheus text on http://127.0.0.1:\(port)/metrics") != nil, "\(d.stderr)")
        #expect(d.waitForLine(containing: "Control socket listening") != nil)
        usleep(1_500_000)
        let r = try CLI.run("/usr/bin/curl", ["-s", "-f", "--max-time", "10", "http://127.0.0.1:\(port)/metrics"])
        #expect(r.status == 0, "\(r)")
        let lines = r.stdout.split(separator: "\n")
        let inferred = lines.first { $0.hasPrefix("deepscope_frames_inferred_total ") }
        #expect(inferred.flatMap { Double($0.split(separator: " ").last ?? "") }.map { $0 > 0 } == true, "\(r.stdout)")
        #expect(r.stdout.contains("# TYPE deepscope_frames_captured_total counter"), "\(r.stdout)")
        #expect(r.stdout.contains("deepscope_stage_latency_seconds{stage=\"forward\",quantile=\"0.99\"}"), "\(r.stdout)")
        #expect(r.stdout.contains("deepscope_frame_rate_hertz{stage=\"inference\"}"), "\(r.stdout)")
        #expect(r.stdout.contains("deepscope_recording 0"), "\(r.stdout)")
        let missing = try CLI.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", "http://127.0.0.1:\(port)/nope"])
        #expect(missing.stdout == "404", "\(missing)")
        d.signal(SIGTERM)
        #expect(d.waitForExit(seconds: 10))
        #expect(d.process.terminationStatus == 0, "\(d.stderr)")
        let gone = try CLI.run("/usr/bin/curl", ["-s", "--max-time", "5", "http://127.0.0.1:\(port)/metrics"])
        #expect(gone.status != 0, "the endpoint outlived the daemon")
    }
}
