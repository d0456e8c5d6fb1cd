import Capture
import Foundation
import Imaging
import Support
import Testing
import TestSupport

/// A fresh empty folder under the system's temporary folder.
func temporaryDirectory(_ name: String = #function) throws -> String {
    let safe = name.filter { $0.isLetter || $0.isNumber }
    let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("deepscope-capture-\(safe)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Descriptors this process has open (entries of /proc/self/fd).
func openDescriptorCount() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
}

/// The sequence number an emulated camera stamped into the first bytes of a frame (RGB24 capture).
func stamp(_ frame: UnsafePointer<UInt8>) -> UInt64 {
    var value: UInt64 = 0
    withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(start: frame, count: 8)) }
    return UInt64(littleEndian: value)
}

/// The stamp in the last 8 bytes of a frame.
func endStamp(_ frame: UnsafePointer<UInt8>, count: Int) -> UInt64 { stamp(frame + count - 8) }

/// A frame buffer that frees itself.
final class FrameBuffer {
    let pointer: UnsafeMutablePointer<UInt8>
    let count: Int
    init(_ geometry: FrameGeometry) {
        count = geometry.byteCount
        pointer = .allocate(capacity: count)
        pointer.initialize(repeating: 0, count: count)
    }
    deinit { pointer.deallocate() }
    var bytes: [UInt8] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
    func pixel(_ x: Int, _ y: Int, width: Int) -> (UInt8, UInt8, UInt8) {
        let p = pointer + (y * width + x) * 3
        return (p[0], p[1], p[2])
    }
}

/// Reads frames from an opened source until `count` frames arrived or `seconds` passed.
func readFrames(_ source: any FrameSource, count: Int, seconds: Double = 5) -> (frames: [FrameStamp], last: FrameRead?) {
    let buffer = FrameBuffer(source.geometry)
    var frames: [FrameStamp] = []
    var last: FrameRead?
    let deadline = MonotonicClock.now() + Nanoseconds.seconds(seconds)
    while frames.count < count && MonotonicClock.now() < deadline {
        let r = source.read(into: buffer.pointer, timeout: 50 * Nanoseconds.millisecond)
        last = r
        switch r {
        case .frame(let s): frames.append(s)
        case .timeout: continue
        case .fault, .ended: return (frames, r)
        }
    }
    return (frames, last)
}

/// Collects capture events from the capture thread.
final class EventLog: @unchecked Sendable {
    private let monitor = Monitor()
    private var items: [CaptureEvent] = []

    var handler: @Sendable (CaptureEvent) -> Void { { [self] e in monitor.withLock { items.append(e) } } }
    var events: [CaptureEvent] { monitor.withLock { items } }
    var faults: [CaptureFault] {
        events.compactMap { if case .fault(let f, _) = $0 { return f } else { return nil } }
    }
    var recoveries: Int {
        events.filter { if case .recovered = $0 { return true } else { return false } }.count
    }
}

/// A quick capture policy for tests: short stall timeout and backoff.
let quickPolicy = CapturePolicy(stallTimeout: 300 * Nanoseconds.millisecond, readTimeout: 20 * Nanoseconds.millisecond,
                                initialBackoff: 10 * Nanoseconds.millisecond, maximumBackoff: 40 * Nanoseconds.millisecond)

/// Whether the `ffmpeg` command is available for making test videos.
let ffmpegAvailable: Bool = FileManager.default.isExecutableFile(atPath: "/usr/bin/ffmpeg")
    || FileManager.default.isExecutableFile(atPath: "/usr/local/bin/ffmpeg")

/// Runs the ffmpeg command; throws when it fails.
func ffmpeg(_ arguments: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["ffmpeg", "-v", "error", "-y"] + arguments
    process.standardOutput = FileHandle.nullDevice
    let errors = Pipe()
    process.standardError = errors
    try process.run()
    let message = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    if process.terminationStatus != 0 {
        throw CaptureTestError("ffmpeg failed: \(String(decoding: message, as: UTF8.self))")
    }
}

struct CaptureTestError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Writes a solid-colour (or patterned) PNG.
func writeTestPNG(_ path: String, width: Int, height: Int, _ color: (_ x: Int, _ y: Int) -> (UInt8, UInt8, UInt8)) throws {
    var image = RGBImage(width: width, height: height)
    for y in 0..<height { for x in 0..<width { let c = color(x, y); image[x, y] = (c.0, c.1, c.2) } }
    try image.writePNG(to: path)
}

/// The error an ioctl fails with, or nil when it succeeds. The argument is copied, so tests can
/// check failures without an `inout` capture inside an expectation's closure.
func controlError<Argument>(_ handle: DeviceHandle, _ request: V4L2Request, _ argument: Argument) -> V4L2Error? {
    var copy = argument
    do {
        try handle.control(request, &copy)
        return nil
    } catch {
        return error
    }
}
