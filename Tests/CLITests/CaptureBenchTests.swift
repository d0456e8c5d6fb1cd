import Foundation
import Testing

/// `deepscope-bench-capture`, the benchmark executable beside `deepscope` (which holds no test
/// doubles): its JSON rows, allocation-free capture, and one-sentence bad input.
@Suite(.enabled(if: CLI.binary != nil, "no deepscope binary: run Scripts/test"))
struct CaptureBenchTests {
    /// The benchmark built beside the binary under test.
    static var bench: String {
        URL(fileURLWithPath: CLI.binary!).deletingLastPathComponent().appendingPathComponent("deepscope-bench-capture").path
    }

    @Test("--json: one object per case, the emulated camera at both sizes and formats, no allocations per frame")
    func jsonRows() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.bench),
                     "no \(Self.bench): Scripts/test builds it with `swift build -c release --product deepscope-bench-capture`")
        let r = try CLI.run(Self.bench, ["--seconds", "0.2", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try r.stdout.split(separator: "\n").map { try CLI.json($0) }
        for row in rows {
            for key in ["case", "width", "height", "frames", "fps", "cpu_ms_per_frame", "allocations_per_frame"] {
                #expect(row.keys.contains(key), "a row lacks \(key): \(row)")
            }
        }
        let camera = rows.filter { ($0["case"] as? String)?.hasPrefix("emulated V4L2 camera") == true }
        let cases = Set(camera.map { "\($0["case"]!) \($0["width"]!)x\($0["height"]!)" })
        #expect(cases == ["emulated V4L2 camera, RGB24 640x480", "emulated V4L2 camera, RGB24 1280x720",
                          "emulated V4L2 camera, YUYV 640x480", "emulated V4L2 camera, YUYV 1280x720"])
        for row in camera {
            #expect((row["frames"] as? Int ?? 0) > 0, "\(row)")
            #expect(row["allocations_per_frame"] as? Double == 0, "capture allocates nothing per frame: \(row)")
        }
        #expect(rows.contains { $0["case"] as? String == "preprocess to 224×224 (inference side)" })
    }

    @Test("a bad --seconds is one sentence and exit status 2; the product no longer has bench-capture")
    func badInput() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.bench))
        let r = try CLI.run(Self.bench, ["--seconds", "0"])
        #expect(r.status == 2)
        #expect(r.stderr == "--seconds must be between 0 and 600, got 0.0.\n")
        let usage = try CLI.run(Self.bench, ["--no-such-option"])
        #expect(usage.status == 2)
        #expect(usage.stderr.hasSuffix("(see --help)\n"))
        let gone = try CLI.deepscope("bench-capture")
        #expect(gone.status == 2, "bench-capture is not a deepscope command any more: \(gone.stderr)")
    }
}
