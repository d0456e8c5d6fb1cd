// Recording the composed view: frames → a thread of its own → H.264 in fragmented MP4 (FFmpeg).

import Foundation
import Support

/// Why a recording could not start or finish: one sentence naming the file.
public struct RecordingError: Error, CustomStringConvertible, Sendable {
    public var description: String
    /// True when the fault is the caller's (a path that cannot be written), not the machine's.
    public var isBadInput: Bool

    public init(description: String, isBadInput: Bool) {
        self.description = description
        self.isBadInput = isBadInput
    }
}

/// What a finished (or stopped) recording holds.
public struct RecordingSummary: Sendable, Equatable {
    /// Frames in the file, and frames submitted that the encoder never took (it was busy with a
    /// newer one) or that came after writing failed.
    public var frames: Int
    public var dropped: Int
    /// The video time the file covers, in seconds.
    public var seconds: Double
    /// Why writing stopped early (a full disk, a vanished folder); nil when it ended cleanly.
    public var stoppedEarly: String?
    /// CPU time the encoder thread spent per encoded frame (converting, encoding, writing), ms.
    public var encoderCPUPerFrameMs: Double
}

/// Writes RGBA frames to an MP4 file (H.264, yuv420p, fragmented) on a thread of its own.
///
/// `submit` copies a frame into one of three preallocated slots and returns at once: the encoder
/// takes the newest frame (latest wins), so a slow encoder drops frames (counted) instead of
/// slowing the view. Timestamps are the frames' presentation times (variable frame rate,
/// millisecond time base), so the video plays at the speed it was seen.
///
/// The file is at its final name from the start and plays whenever the recording stops: a keyframe
/// and a fragment about every second (`FragmentedMP4Writer`), so a crash or SIGKILL loses at most
/// the last second. When writing fails (a full disk, a file size limit, the folder removed) the
/// recorder stops encoding, `stoppedEarly` says why, and the file is cut back to what plays.
public final class VideoRecorder: @unchecked Sendable {
    public let path: String
    /// The size of the frames submitted, and of the video (rounded down to even numbers).
    public let width: Int
    public let height: Int
    public var videoWidth: Int { writer.videoWidth }
    public var videoHeight: Int { writer.videoHeight }

    private let writer: FragmentedMP4Writer
    /// One frame's memory and when it was shown.
    private struct Slot {
        let pixels: UnsafeMutablePointer<UInt8>
        var time: UInt64 = 0
    }

    /// Guards the counters the encoder thread updates.
    private let monitor = Monitor()
    private let storage: UnsafeMutablePointer<UInt8>
    private let frames: TripleBuffer<Slot>
    private var thread: WorkerThread?
    private var startTime: UInt64?
    private var encodedCount = 0
    private var encoderCPU: UInt64 = 0
    private var failure: String?
    private var finished = false

    /// Creates (or replaces) `path` for a `width`×`height` recording and starts the encoder thread.
    /// - Parameter keyframeInterval: video time between keyframes (and fragments), milliseconds.
    public init(path: String, width: Int, height: Int, keyframeInterval: Int64 = 1000) throws(RecordingError) {
        self.path = path
        self.width = width
        self.height = height
        try Self.checkDestination(path)
        Self.ignoreFileSizeSignal()
        writer = try FragmentedMP4Writer(path: path, width: width, height: height, keyframeInterval: keyframeInterval)
        let slotBytes = width * height * 4
        let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: 3 * slotBytes)
        storage.initialize(repeating: 0, count: 3 * slotBytes)
        self.storage = storage
        frames = TripleBuffer { index in Slot(pixels: storage + index * slotBytes) }
        thread = WorkerThread(name: "ds-recorder") { [self] in run() }
    }

    /// Checks that `path` can take a recording: an `.mp4` name in a folder that exists and can be
    /// written (a relative path is relative to the current folder).
    public static func checkDestination(_ path: String) throws(RecordingError) {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue,
              FileManager.default.isWritableFile(atPath: directory) else {
            throw RecordingError(description: "Cannot record to \(path): the folder \(directory) does not exist or cannot be written.", isBadInput: true)
        }
        guard url.pathExtension.lowercased() == "mp4" else {
            throw RecordingError(description: "Cannot record to \(path): the file name must end in .mp4.", isBadInput: true)
        }
    }

    /// A file size limit (RLIMIT_FSIZE) then fails the write (EFBIG), which stops the recording
    /// like a full disk, instead of killing the whole process with SIGXFSZ.
    private static let fileSizeSignalIgnored: Void = { signal(SIGXFSZ, SIG_IGN) }()
    private static func ignoreFileSizeSignal() { _ = fileSizeSignalIgnored }

    deinit {
        if thread != nil { _ = try? finish() }
        storage.deallocate()
    }

    /// Hands one frame (`width`×`height` RGBA, `rowBytes` apart) to the encoder thread, shown at
    /// `time` (`MonotonicClock` nanoseconds). Copies it and returns at once; allocates nothing.
    public func submit(_ rgba: UnsafePointer<UInt8>, rowBytes: Int, time: UInt64) {
        let base = frames.producerSlot.pixels
        for y in 0..<height {
            (base + y * width * 4).update(from: rgba + y * rowBytes, count: width * 4)
        }
        frames.publish { slot, _ in slot.time = time }
    }

    /// Frames submitted so far.
    public var submitted: Int { Int(frames.counts.published) }
    /// Frames encoded so far.
    public var encoded: Int { monitor.withLock { encodedCount } }
    /// Frames submitted but never encoded (the encoder was busy with a newer one, or had stopped).
    public var dropped: Int { submitted - encoded }
    /// Why writing stopped before `finish` (a full disk, a vanished folder), once it has.
    public var stoppedEarly: String? { monitor.withLock { failure } }

    /// The encoder thread: the newest frame, until `finish` closes the hand-off (a frame submitted
    /// before that is still encoded).
    private func run() {
        while let slot = frames.take(waitingUpTo: nil) {
            guard monitor.withLock({ failure }) == nil else { continue }
            let cpu0 = MonotonicClock.threadCPUTime()
            let start = startTime ?? slot.time
            startTime = start
            writer.encode(slot.pixels, milliseconds: Int64((slot.time &- start) / Nanoseconds.millisecond))
            let cpu = MonotonicClock.threadCPUTime() &- cpu0
            let failed = writer.failure
            monitor.withLock {
                encoderCPU &+= cpu
                if failed == nil { encodedCount += 1 } else { failure = failed }
            }
        }
    }

    /// Encodes what is pending, writes the end of the file (or, after a failed write, cuts it back
    /// to what plays) and reports. Idempotent: later calls return the same summary.
    /// - Throws: `RecordingError` when the file holds no frame (it is removed) or could not be
    ///   written at all.
    @discardableResult
    public func finish() throws(RecordingError) -> RecordingSummary {
        if let thread {
            frames.close()
            thread.join()
            self.thread = nil
        }
        if !finished {
            finished = true
            let cpu0 = MonotonicClock.threadCPUTime()
            writer.finish()
            monitor.withLock {
                encoderCPU &+= MonotonicClock.threadCPUTime() &- cpu0
                failure = writer.failure
            }
        }
        let (cpu, count, why) = monitor.withLock { (encoderCPU, encodedCount, failure) }
        let kept = why == nil ? writer.framesEncoded : writer.framesComplete
        guard kept > 0, why == nil || FileManager.default.fileExists(atPath: path) else {
            unlink(path)
            if let why { throw RecordingError(description: "The recording \(path) failed: \(why); nothing was kept.", isBadInput: false) }
            throw RecordingError(description: "The recording \(path) holds no frame; nothing was written.", isBadInput: false)
        }
        return RecordingSummary(frames: kept, dropped: submitted - kept, seconds: Double(writer.completeDuration) / 1000,
                                stoppedEarly: why, encoderCPUPerFrameMs: count > 0 ? Double(cpu) / 1e6 / Double(count) : 0)
    }

    /// Hidden partial files (`.NAME.<pid>.tmp.mp4`) that recorders before fragmented MP4 left in
    /// `directory` when they were killed: no player opens them. Names, with their sizes in bytes.
    public static func leftovers(in directory: String) -> [(name: String, bytes: Int)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.sorted().compactMap { name in
            let parts = name.split(separator: ".", omittingEmptySubsequences: false)
            // "", NAME…, "mp4", PID, "tmp", "mp4"
            guard parts.count >= 6, parts[0].isEmpty, parts[parts.count - 1] == "mp4", parts[parts.count - 2] == "tmp",
                  Int(parts[parts.count - 3]) != nil, parts[parts.count - 4].lowercased() == "mp4" else { return nil }
            let size = (try? FileManager.default.attributesOfItem(atPath: (directory as NSString).appendingPathComponent(name)))?[.size] as? Int
            return (name, size ?? 0)
        }
    }
}
