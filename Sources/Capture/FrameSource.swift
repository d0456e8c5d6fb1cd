// What every frame source (camera, image, folder, video file, synthetic scene) provides.

import Support

/// The size of the frames a source delivers: packed 8-bit RGB, rows top to bottom, no padding.
public struct FrameGeometry: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        precondition(width > 0 && height > 0, "a frame of \(width)×\(height) pixels is empty")
        self.width = width
        self.height = height
    }

    /// Bytes in one row (`width · 3`).
    @inlinable public var rowBytes: Int { width * 3 }
    /// Bytes in one frame.
    @inlinable public var byteCount: Int { width * height * 3 }

    public var description: String { "\(width)×\(height)" }
}

/// When and in what order a source delivered a frame.
public struct FrameStamp: Sendable, Equatable {
    /// The source's own frame counter (the V4L2 buffer sequence, the video frame index, …).
    /// It increases within one streaming session and may restart after a reconnect.
    public var sourceSequence: UInt64
    /// `MonotonicClock` nanoseconds at which the frame was captured (the driver's timestamp where it
    /// is monotonic, else when it was dequeued).
    public var captureTime: UInt64

    public init(sourceSequence: UInt64, captureTime: UInt64) {
        self.sourceSequence = sourceSequence
        self.captureTime = captureTime
    }
}

/// The outcome of one `FrameSource.read`.
public enum FrameRead: Sendable, Equatable {
    /// A frame was written to the destination.
    case frame(FrameStamp)
    /// No frame arrived within the timeout; nothing was written. Call `read` again.
    case timeout
    /// The source stopped delivering (unplugged, I/O error, …). The caller closes it and may open it
    /// again later; the destination may hold a partial frame.
    case fault(CaptureFault)
    /// The source has no more frames and never will.
    case ended
}

/// A source of RGB frames of one fixed geometry.
///
/// Life cycle: `open` (which fixes `geometry` the first time it succeeds), then `read` repeatedly,
/// then `close`. After a fault the caller closes the source and calls `open` again; a reopened
/// source keeps delivering the geometry it had first (a camera that comes back with another size is
/// resampled into it), so buffers sized once stay valid.
///
/// A source is used by one thread at a time: opened by whoever creates the pipeline, then read and
/// closed by the capture thread alone.
public protocol FrameSource: AnyObject, Sendable {
    /// How messages name the source: "camera /dev/video0", "video clip.mp4", …
    var name: String { get }
    /// The frame size; valid after the first successful `open`.
    var geometry: FrameGeometry { get }
    /// The frame rate the source aims for, in frames per second; 0 when it runs as fast as it can.
    var frameRate: Double { get }
    /// What was negotiated or found when last opened, for one line of a report:
    /// "640×480 RGB24 at 30 fps", "1280×720 h264 at 25 fps, looped", …
    var detail: String { get }

    /// Opens (or reopens) the source.
    /// - Throws: `CaptureError`, whose description is one sentence naming the source.
    func open() throws(CaptureError)

    /// Waits at most `timeout` nanoseconds for the next frame and writes it into `destination`
    /// (`geometry.byteCount` bytes of packed RGB). Allocates nothing.
    func read(into destination: UnsafeMutablePointer<UInt8>, timeout: UInt64) -> FrameRead

    /// Releases the device, files and buffers. Idempotent; the source may be opened again.
    func close()

    /// The source's own controls, where it has any (a folder steps through its files); nil by
    /// default. The pipeline reaches them through this, never by asking for the source's kind.
    var controls: (any SourceControls)? { get }
}

extension FrameSource {
    public var controls: (any SourceControls)? { nil }
}

/// What a source may let the user do to it beyond reading frames: step to the next or previous
/// file (`N` / shift `N` in the window). A new kind of source with something to step through adopts
/// this and returns itself from `FrameSource.controls`.
public protocol SourceControls: AnyObject, Sendable {
    /// Moves `delta` items after (or before) the one shown last, at the next read. Safe to call
    /// from any thread.
    func step(by delta: Int)
}

/// Options every kind of source accepts.
public struct SourceOptions: Sendable, Equatable {
    /// Requested frame width; cameras negotiate the nearest size they support, files and the
    /// synthetic scene are scaled to cover it and center-cropped.
    public var width: Int?
    /// Requested frame height (given together with `width`).
    public var height: Int?
    /// Frames per second; for files 0 means as fast as they can be read.
    public var frameRate: Double?
    /// Flip every frame left to right (a "selfie" view).
    public var mirror: Bool

    public init(width: Int? = nil, height: Int? = nil, frameRate: Double? = nil, mirror: Bool = false) {
        self.width = width
        self.height = height
        self.frameRate = frameRate
        self.mirror = mirror
    }

    /// The requested size, when both sides were given.
    public var requestedGeometry: FrameGeometry? {
        guard let width, let height else { return nil }
        return FrameGeometry(width: width, height: height)
    }
}
