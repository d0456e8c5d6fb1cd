// The capture benchmark: an executable of its own, because it runs the emulated V4L2 camera, a
// test double that the product `deepscope` does not contain.

import ArgumentParser
import CAllocationCounter
import Capture
import CaptureTesting
import CommandLineSupport
import Daemon
import Foundation
import ModelIO
import Support

/// `deepscope-bench-capture`: source → mailbox throughput, CPU and allocations per frame.
@main
struct CaptureBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deepscope-bench-capture",
        abstract: "Measures the capture path, source to mailbox: frames per second, CPU time and allocations per frame.",
        discussion: """
            Runs the capture thread flat out (no pacing) on an emulated V4L2 camera and on video files \
            at 640×480 and 1280×720, with nothing consuming the mailbox, and then the inference \
            thread's preprocessing of such frames. Video files are made with the ffmpeg command \
            unless --video is given. Allocations are counted over the whole process.
            """)

    @Option(name: .long, help: "Seconds measured per case (after a warm-up).")
    var seconds: Double = 2

    @Option(name: .long, help: ArgumentHelp("Measure this video file instead of generated ones.", valueName: "file"))
    var video: String?

    @Flag(name: .long, help: "One JSON object per case and line.")
    var json = false

    struct Row {
        var name: String
        var geometry: FrameGeometry
        var frames: UInt64
        var seconds: Double
        var cpuNanoseconds: UInt64
        var allocations: UInt64?

        var fps: Double { Double(frames) / seconds }
        var cpuMillisecondsPerFrame: Double { frames > 0 ? Double(cpuNanoseconds) / Double(frames) / 1e6 : 0 }
        var allocationsPerFrame: Double? { allocations.map { frames > 0 ? Double($0) / Double(frames) : 0 } }
    }

    /// A bad option value: one sentence, exit status 2.
    struct OptionError: DeepScopeError {
        var description: String
        var errorKind: ErrorKind { .badInput }
    }

    /// Runs the benchmark, mapping errors to stderr and exit statuses as `deepscope` does.
    static func main() {
        setvbuf(stdout, nil, _IOLBF, 0)
        mainMappingErrors()
    }

    func run() throws {
        guard seconds > 0 && seconds <= 600 else { throw OptionError(description: "--seconds must be between 0 and 600, got \(seconds).") }
        let counting = ds_allocation_counter_active() != 0
        if !json {
            print("capture to mailbox, \(String(format: "%.1f", seconds)) s per case" + (counting ? "" : " (allocations not counted)"))
        }
        var rows: [Row] = []
        func report(_ row: Row) {
            rows.append(row)
            if json {
                var object: [String: Any] = [
                    "case": row.name, "width": row.geometry.width, "height": row.geometry.height,
                    "frames": row.frames, "fps": (row.fps * 10).rounded() / 10,
                    "cpu_ms_per_frame": (row.cpuMillisecondsPerFrame * 1000).rounded() / 1000,
                ]
                object["allocations_per_frame"] = counting ? row.allocationsPerFrame.map { ($0 * 100).rounded() / 100 } as Any : NSNull()
                if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) {
                    print(String(decoding: data, as: UTF8.self))
                }
            } else {
                let allocations = counting ? row.allocationsPerFrame.map { String(format: "%.2f", $0) } ?? "-" : "-"
                let name = row.name.padding(toLength: 44, withPad: " ", startingAt: 0)
                let size = "\(row.geometry)".padding(toLength: 9, withPad: " ", startingAt: 0)
                print("  \(name) \(size)" + String(format: " %9.1f fps %8.3f ms CPU/frame", row.fps, row.cpuMillisecondsPerFrame)
                      + "  \(allocations) allocations/frame")
            }
        }

        for (fourcc, size) in [(FourCC.rgb24, (640, 480)), (.rgb24, (1280, 720)), (.yuyv, (640, 480)), (.yuyv, (1280, 720))] {
            let system = EmulatedVideoSystem()
            system.plug("/dev/video0", model: .single(fourcc, width: size.0, height: size.1, paced: false))
            let source = V4L2Source(path: "/dev/video0", system: system)
            report(try measure(source, name: "emulated V4L2 camera, \(fourcc.layout!)"))
        }

        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("deepscope-bench-\(getpid())")
        defer { try? FileManager.default.removeItem(at: scratch) }
        var videos: [String] = []
        if let video {
            videos = [video]
        } else {
            try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            for (w, h) in [(640, 480), (1280, 720)] {
                let path = scratch.appendingPathComponent("testsrc-\(w)x\(h).mp4").path
                if makeVideo(path, width: w, height: h) { videos.append(path) }
            }
            if videos.isEmpty && !json { print("  (no video cases: the ffmpeg command could not make a test video)") }
        }
        for path in videos {
            let label = "video file" + (video == nil ? "" : " " + (path as NSString).lastPathComponent)
            // Decoding every frame (FFmpeg allocates inside), and replaying the loop decoded once.
            let decoding = VideoFileSource(path: path, options: SourceOptions(frameRate: 0), cacheBudget: 0)
            report(try measure(decoding, name: label + ", decoding"))
            let replaying = VideoFileSource(path: path, options: SourceOptions(frameRate: 0))
            let row = try measure(replaying, name: label + ", loop replayed from memory")
            if replaying.isReplaying { report(row) } else if !json { print("  (\(label) is too long to replay from memory)") }
        }

        // The other side of the mailbox: crop + resize + normalize into the network input.
        for row in rows where row.name.hasPrefix("emulated V4L2 camera, RGB24") {
            report(measurePreprocessing(row.geometry))
        }
    }

    /// Opens `source`, runs a capture thread on it into a mailbox nobody reads, and measures.
    private func measure(_ source: any FrameSource, name: String) throws -> Row {
        try source.open()
        let mailbox = FrameMailbox(geometry: source.geometry)
        let capture = CaptureThread(source: source, mailbox: mailbox)
        capture.start()
        usleep(useconds_t(min(seconds * 0.25, 0.5) * 1e6))   // warm-up
        let before = capture.counters
        let t0 = MonotonicClock.now()
        ds_allocation_counter_start()
        usleep(useconds_t(seconds * 1e6))
        let allocations = ds_allocation_counter_stop()
        let t1 = MonotonicClock.now()
        let after = capture.counters
        capture.stop()
        return Row(name: name, geometry: source.geometry, frames: after.frames - before.frames,
                   seconds: Double(t1 - t0) / 1e9, cpuNanoseconds: after.cpuNanoseconds - before.cpuNanoseconds,
                   allocations: allocations)
    }

    /// Times `InputPreparer` (the default model's 224×224 bicubic preprocessing) on frames of `geometry`.
    private func measurePreprocessing(_ geometry: FrameGeometry) -> Row {
        let spec = Preprocessing(inputSize: [224, 224], resize: "bicubic")
        let preparer = try! InputPreparer(preprocessing: spec, frame: geometry, inputCount: 3 * 224 * 224)
        let frame = UnsafeMutablePointer<UInt8>.allocate(capacity: geometry.byteCount)
        let input = UnsafeMutablePointer<Float>.allocate(capacity: 3 * 224 * 224)
        defer {
            frame.deallocate()
            input.deallocate()
        }
        SyntheticSource(options: SourceOptions(width: geometry.width, height: geometry.height)).render(frame: 7, into: frame)
        preparer.prepare(frame, into: input)
        var frames: UInt64 = 0
        let cpu0 = MonotonicClock.threadCPUTime(), t0 = MonotonicClock.now()
        ds_allocation_counter_start()
        while MonotonicClock.now() - t0 < UInt64(seconds * 0.5e9) {
            preparer.prepare(frame, into: input)
            frames += 1
        }
        let allocations = ds_allocation_counter_stop()
        let t1 = MonotonicClock.now(), cpu1 = MonotonicClock.threadCPUTime()
        return Row(name: "preprocess to 224×224 (inference side)", geometry: geometry, frames: frames,
                   seconds: Double(t1 - t0) / 1e9, cpuNanoseconds: cpu1 - cpu0, allocations: allocations)
    }

    /// Makes a 2-second H.264 test video with the ffmpeg command; false if that fails.
    private func makeVideo(_ path: String, width: Int, height: Int) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=\(width)x\(height):rate=30",
                             "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0 && FileManager.default.fileExists(atPath: path)
    }
}
