// One V4L2 streaming session: the documented sequence, and nothing else.
//
//   open → VIDIOC_QUERYCAP → VIDIOC_ENUM_FMT → VIDIOC_S_FMT → VIDIOC_S_PARM
//        → VIDIOC_REQBUFS → (VIDIOC_QUERYBUF → mmap → VIDIOC_QBUF) per buffer → VIDIOC_STREAMON
//   per frame: poll → VIDIOC_DQBUF → use the mapped bytes → VIDIOC_QBUF
//   stop: VIDIOC_STREAMOFF → munmap each → VIDIOC_REQBUFS(0) → close
//
// A failure at any step undoes the steps before it, so no descriptor or mapping outlives a session.

#if canImport(Glibc)
import Glibc
#endif
import CV4L2
import Support

/// The format a camera session agreed on with the driver.
public struct NegotiatedFormat: Sendable, Equatable, CustomStringConvertible {
    public var fourcc: FourCC
    public var width: Int
    public var height: Int
    /// Bytes from one row to the next (may include padding).
    public var bytesPerLine: Int
    /// Bytes of one whole frame.
    public var sizeImage: Int
    /// Frames per second the driver says it will deliver; nil when it does not say.
    public var frameRate: Double?
    /// Buffers in the ring.
    public var bufferCount: Int

    public var geometry: FrameGeometry { FrameGeometry(width: width, height: height) }

    /// "640×480 RGB24 at 30 fps".
    public var description: String {
        let layout = fourcc.layout?.description ?? fourcc.description
        let rate = frameRate.map { " at \(formatRate($0)) fps" } ?? ""
        return "\(width)×\(height) \(layout)\(rate)"
    }
}

/// "30", "7.5", "29.97".
func formatRate(_ fps: Double) -> String {
    if abs(fps - fps.rounded()) < 0.005 { return String(Int(fps.rounded())) }
    return String((fps * 100).rounded() / 100)
}

/// What `V4L2Camera.nextFrame` found.
public enum CameraRead: Sendable, Equatable {
    case frame(FrameStamp)
    /// Nothing arrived in time (or poll was interrupted, or the frame was flagged corrupt and skipped).
    case timeout
    case fault(V4L2Error)
}

/// A V4L2 capture device streaming through mmap buffers.
///
/// Not thread-safe: one thread starts it, reads frames and stops it.
public final class V4L2Camera: @unchecked Sendable {
    public let path: String
    public let system: any VideoDeviceSystem

    /// Pixel formats in order of preference. libv4l2 offers RGB24 and BGR24 for every camera whose
    /// native format it can convert (MJPEG, YUYV, …); YUYV is converted here when it cannot.
    public static let preferredFormats: [FourCC] = [.rgb24, .bgr24, .yuyv]
    /// Buffers requested; the driver may grant more or fewer (at least 2 are needed).
    public static let requestedBuffers = 4

    private struct MappedBuffer {
        var address: UnsafeMutableRawPointer
        var length: Int
    }

    private var handle: DeviceHandle?
    private var buffers: [MappedBuffer] = []
    private var buffersRequested = false
    private var streaming = false
    /// Frames skipped because the driver flagged them corrupt or short.
    public private(set) var skippedFrames = 0

    /// The format of the current session; nil when stopped.
    public private(set) var format: NegotiatedFormat?

    /// Where V4L2 requests go; nil when stopped.
    public var isStreaming: Bool { streaming }

    public init(path: String, system: any VideoDeviceSystem) {
        self.path = path
        self.system = system
    }

    deinit { stop() }

    // MARK: - Start

    /// Opens the device and starts streaming.
    /// - Parameters:
    ///   - width: wanted width (the driver picks the nearest size it supports); nil for 640.
    ///   - height: wanted height; nil for 480.
    ///   - frameRate: wanted frames per second; nil for 30.
    /// - Throws: `CaptureError` — `.notFound`, `.notACamera` or `.unreadable` for a path that is not
    ///   a usable camera, `.device(...)` for a camera that is busy, gone or refuses every format.
    ///   Nothing stays open after a throw.
    public func start(width: Int? = nil, height: Int? = nil, frameRate: Double? = nil) throws(CaptureError) {
        stop()
        let handle: DeviceHandle
        do {
            handle = try DeviceHandle.open(path, system: system)
        } catch {
            switch error.code {
            case ENOENT, ENOTDIR: throw .notFound(what: "camera", path: path)
            case EACCES, EPERM: throw .unreadable(what: "camera", path: path, reason: "permission denied (\(errnoName(error.code))); is the user in the video group?")
            // libv4l2 asks VIDIOC_QUERYCAP inside v4l2_open and refuses a file that does not answer it.
            case ENOTTY, EINVAL: throw .notACamera(path: path, reason: "it does not answer VIDIOC_QUERYCAP (\(errnoName(error.code)))")
            default: throw .device(fault(error))
            }
        }
        self.handle = handle
        do {
            try checkCapabilities(handle)
            var negotiated = try negotiateFormat(handle, width: width ?? 640, height: height ?? 480)
            negotiated.frameRate = try setFrameRate(handle, frameRate ?? 30)
            try allocateBuffers(handle)
            negotiated.bufferCount = buffers.count
            try startStreaming(handle)
            format = negotiated
        } catch {
            stop()
            throw error
        }
    }

    private var source: String { "camera \(path)" }

    /// Maps a V4L2 failure during setup to a fault of this camera.
    private func fault(_ error: V4L2Error) -> CaptureFault {
        switch error.kind {
        case .gone: return .disconnected(source: source, code: error.code)
        case .busy: return .busy(source: source)
        default: return .failed(source: source, message: error.description)
        }
    }

    private func checkCapabilities(_ handle: DeviceHandle) throws(CaptureError) {
        var caps = v4l2_capability()
        do {
            try handle.control(.queryCapabilities, &caps)
        } catch {
            if error.kind == .notSupported || error.kind == .invalid {
                throw .notACamera(path: path, reason: "it does not answer VIDIOC_QUERYCAP (\(errnoName(error.code)))")
            }
            throw .device(fault(error))
        }
        let deviceCaps = caps.capabilities & V4L2.capDeviceCaps != 0 ? caps.device_caps : caps.capabilities
        guard deviceCaps & V4L2.capVideoCapture != 0 else {
            let what = deviceCaps & V4L2.capMetaCapture != 0 ? "a metadata node" : "not a video capture device"
            throw .notACamera(path: path, reason: "it is \(what) (\(cString(fromTuple: caps.card)))")
        }
        guard deviceCaps & V4L2.capStreaming != 0 else {
            throw .notACamera(path: path, reason: "it does not support streaming I/O")
        }
    }

    /// The formats the device lists (VIDIOC_ENUM_FMT), in its order.
    private func offeredFormats(_ handle: DeviceHandle) throws(CaptureError) -> [FourCC] {
        var offered: [FourCC] = []
        do {
            try handle.enumerate(.enumerateFormats, limit: 256, make: Self.formatEntry) { desc in
                offered.append(FourCC(rawValue: desc.pixelformat))
                return true
            }
        } catch {
            // A device that vanished or is taken is a fault; any other answer ends the list.
            if error.kind == .gone || error.kind == .busy { throw .device(fault(error)) }
        }
        return offered
    }

    /// The VIDIOC_ENUM_FMT argument for entry `index` of the capture formats.
    static func formatEntry(_ index: UInt32) -> v4l2_fmtdesc {
        var desc = v4l2_fmtdesc()
        desc.index = index
        desc.type = V4L2.captureType
        return desc
    }

    private func negotiateFormat(_ handle: DeviceHandle, width: Int, height: Int) throws(CaptureError) -> NegotiatedFormat {
        let offered = try offeredFormats(handle)
        // Formats the device lists first, in our order; when it lists none, try each anyway.
        var candidates = Self.preferredFormats.filter { offered.contains($0) }
        if offered.isEmpty { candidates = Self.preferredFormats }
        var lastRejection: String?
        for fourcc in candidates {
            var format = v4l2_format()
            format.type = V4L2.captureType
            format.fmt.pix.width = UInt32(width)
            format.fmt.pix.height = UInt32(height)
            format.fmt.pix.pixelformat = fourcc.rawValue
            format.fmt.pix.field = V4L2.fieldAny
            do {
                try handle.control(.setFormat, &format)
            } catch {
                if error.kind == .invalid { lastRejection = "VIDIOC_S_FMT rejects \(fourcc) (EINVAL)"; continue }
                throw .device(fault(error))
            }
            let pix = format.fmt.pix
            // The driver may substitute another format (the documented behaviour); only accept ours.
            guard pix.pixelformat == fourcc.rawValue, let layout = fourcc.layout else {
                lastRejection = "asked for \(fourcc), the driver chose \(FourCC(rawValue: pix.pixelformat))"
                continue
            }
            let w = Int(pix.width), h = Int(pix.height)
            guard w > 0, h > 0, w <= SourceSpec.maximumSide, h <= SourceSpec.maximumSide else {
                lastRejection = "the driver chose a \(w)×\(h) frame"
                continue
            }
            let packedRow = w * layout.bytesPerPixel
            let bytesPerLine = max(Int(pix.bytesperline), packedRow)
            let needed = bytesPerLine * (h - 1) + packedRow
            let sizeImage = Int(pix.sizeimage) > 0 ? Int(pix.sizeimage) : bytesPerLine * h
            guard sizeImage >= needed else {
                lastRejection = "the driver's \(sizeImage)-byte frames are too small for \(w)×\(h) \(fourcc)"
                continue
            }
            return NegotiatedFormat(fourcc: fourcc, width: w, height: h, bytesPerLine: bytesPerLine,
                                    sizeImage: sizeImage, frameRate: nil, bufferCount: 0)
        }
        let list = offered.isEmpty ? "it lists no formats" : "it offers " + offered.map(\.description).joined(separator: ", ")
        throw .device(.formatRefused(source: source, detail: list + (lastRejection.map { "; \($0)" } ?? "")))
    }

    /// Asks for `fps`; returns what the driver reports, or nil when it cannot set a frame rate.
    private func setFrameRate(_ handle: DeviceHandle, _ fps: Double) throws(CaptureError) -> Double? {
        var parm = v4l2_streamparm()
        parm.type = V4L2.captureType
        do {
            try handle.control(.getParameters, &parm)
        } catch {
            if error.kind == .gone { throw .device(fault(error)) }
            return nil
        }
        if parm.parm.capture.capability & V4L2.capTimePerFrame != 0 {
            parm.parm.capture.timeperframe.numerator = 1000
            parm.parm.capture.timeperframe.denominator = UInt32(max(1, (fps * 1000).rounded()))
            do {
                try handle.control(.setParameters, &parm)
            } catch {
                if error.kind == .gone { throw .device(fault(error)) }
                // Frame rate not settable now: carry on at the driver's rate.
            }
        }
        let t = parm.parm.capture.timeperframe
        return t.numerator > 0 && t.denominator > 0 ? Double(t.denominator) / Double(t.numerator) : nil
    }

    private func allocateBuffers(_ handle: DeviceHandle) throws(CaptureError) {
        var request = v4l2_requestbuffers()
        request.count = UInt32(Self.requestedBuffers)
        request.type = V4L2.captureType
        request.memory = V4L2.memoryMMap
        do {
            try handle.control(.requestBuffers, &request)
        } catch {
            if error.kind == .invalid {
                throw .device(.failed(source: source, message: "it does not support mmap streaming (VIDIOC_REQBUFS: EINVAL)"))
            }
            throw .device(fault(error))
        }
        buffersRequested = true
        guard request.count >= 2 else {
            throw .device(.failed(source: source, message: "the driver granted \(request.count) buffer(s), capture needs 2"))
        }
        buffers.reserveCapacity(Int(request.count))
        for index in 0..<request.count {
            var buffer = v4l2_buffer()
            buffer.index = index
            buffer.type = V4L2.captureType
            buffer.memory = V4L2.memoryMMap
            do {
                try handle.control(.queryBuffer, &buffer)
            } catch {
                throw .device(fault(error))
            }
            let length = Int(buffer.length)
            let mapped = system.mmap(length: length, offset: Int(buffer.m.offset), fd: handle.fd)
            guard let address = mapped.address else {
                throw .device(fault(V4L2Error(call: "mmap", path: path, code: mapped.error)))
            }
            buffers.append(MappedBuffer(address: address, length: length))
            do {
                try handle.control(.queueBuffer, &buffer)
            } catch {
                throw .device(fault(error))
            }
        }
    }

    private func startStreaming(_ handle: DeviceHandle) throws(CaptureError) {
        var type = Int32(V4L2.captureType)
        do {
            try handle.control(.streamOn, &type)
        } catch {
            throw .device(fault(error))
        }
        streaming = true
    }

    // MARK: - Frames

    /// Waits up to `timeout` nanoseconds for a frame, lends its bytes to `body`, and gives the buffer
    /// back to the driver. Allocates nothing.
    /// - Parameter body: receives the frame's bytes (`bytesused` of them, rows `bytesPerLine` apart)
    ///   and its stamp; the bytes are valid only during the call.
    public func nextFrame(timeout: UInt64, _ body: (UnsafeRawBufferPointer, FrameStamp) -> Void) -> CameraRead {
        guard let handle, streaming, let format else {
            return .fault(V4L2Error(call: "VIDIOC_DQBUF", path: path, code: EBADF))
        }
        let milliseconds = Int32(min((timeout + 999_999) / 1_000_000, 60_000))
        let polled = system.poll(handle.fd, events: Int16(POLLIN), timeoutMilliseconds: milliseconds)
        if polled.result < 0 {
            if polled.result == -EINTR { return .timeout }
            return .fault(V4L2Error(call: "poll", path: path, code: -polled.result))
        }
        if polled.result == 0 { return .timeout }
        // POLLERR / POLLHUP without POLLIN: DQBUF says why.

        var buffer = v4l2_buffer()
        buffer.type = V4L2.captureType
        buffer.memory = V4L2.memoryMMap
        do {
            try handle.control(.dequeueBuffer, &buffer)
        } catch {
            if error.kind == .wouldBlock { return .timeout }
            return .fault(error)
        }
        let dequeuedAt = MonotonicClock.now()
        let index = Int(buffer.index)
        guard index < buffers.count else {
            return .fault(V4L2Error(call: "VIDIOC_DQBUF", path: path, code: EPROTO))
        }
        let used = buffer.bytesused > 0 ? Int(buffer.bytesused) : format.sizeImage
        let needed = format.bytesPerLine * (format.height - 1) + format.width * (format.fourcc.layout?.bytesPerPixel ?? 1)
        var stamp: FrameStamp?
        if buffer.flags & V4L2.bufferFlagError == 0 && used >= needed {
            var time = dequeuedAt
            if buffer.flags & V4L2.bufferFlagTimestampMask == V4L2.bufferFlagTimestampMonotonic
                && (buffer.timestamp.tv_sec > 0 || buffer.timestamp.tv_usec > 0) {
                time = UInt64(buffer.timestamp.tv_sec) &* 1_000_000_000 &+ UInt64(buffer.timestamp.tv_usec) &* 1000
            }
            let mapped = buffers[index]
            let delivered = FrameStamp(sourceSequence: UInt64(buffer.sequence), captureTime: time)
            body(UnsafeRawBufferPointer(start: mapped.address, count: min(used, mapped.length)), delivered)
            stamp = delivered
        } else {
            skippedFrames += 1
        }
        do {
            try handle.control(.queueBuffer, &buffer)
        } catch {
            return .fault(error)
        }
        return stamp.map { .frame($0) } ?? .timeout
    }

    // MARK: - Stop

    /// Stops streaming, unmaps every buffer, frees them and closes the device. Safe to call in any
    /// state, and again; errors (the device may be gone) are ignored, since every step must run.
    public func stop() {
        guard let handle else { return }
        if streaming {
            var type = Int32(V4L2.captureType)
            try? handle.control(.streamOff, &type)
            streaming = false
        }
        for buffer in buffers {
            _ = system.munmap(buffer.address, length: buffer.length)
        }
        buffers.removeAll()
        if buffersRequested {
            var request = v4l2_requestbuffers()
            request.count = 0
            request.type = V4L2.captureType
            request.memory = V4L2.memoryMMap
            try? handle.control(.requestBuffers, &request)
            buffersRequested = false
        }
        handle.close()
        self.handle = nil
        format = nil
    }
}
