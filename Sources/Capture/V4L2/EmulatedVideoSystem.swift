// An in-memory V4L2 implementation of `VideoDeviceSystem`, written from the V4L2 specification
// (the "Streaming I/O (Memory Mapping)" chapter and the ioctl pages) and the kernel's videobuf2
// behaviour, so that capture can be tested — and benchmarked — on machines with no camera:
//
// - VIDIOC_S_FMT / TRY_FMT adjust the size to the nearest one supported and substitute a supported
//   format for an unknown one (or fail with EINVAL, as old drivers did, when the model says so);
//   S_FMT and REQBUFS fail with EBUSY while another descriptor owns the buffers or streams.
// - VIDIOC_REQBUFS clamps the count; buffers are page-aligned and identified by an offset cookie
//   for mmap; REQBUFS(0) frees them, and a buffer still mapped is orphaned until munmap.
// - Buffers are filled in the order they were queued and dequeued in the order they were filled;
//   QBUF of a queued buffer is EINVAL; DQBUF on a non-blocking descriptor with nothing ready is
//   EAGAIN, and EINVAL when not streaming; STREAMOFF returns every buffer to the application.
// - A paced camera fills one buffer per frame interval; with no buffer queued the frame is lost
//   and the sequence number still advances (as drivers do).
// - Unplugging makes every call on open descriptors fail with ENODEV (or EIO), poll report
//   POLLERR | POLLHUP and open fail with ENOENT; mapped memory stays valid until munmap. Plugging
//   the camera back creates a new device at the same path.
//
// Tests drive faults through `unplug`, `plug`, `stall`, `setBusy`, `corruptNextFrames` and `inject`,
// and check for leaks with `openDescriptorCount`, `mappingCount` and `allocatedBufferCount`.

#if canImport(Glibc)
import Glibc
#endif
import CV4L2

/// A system call of the seam, for `EmulatedVideoSystem.inject`.
public enum EmulatedCall: Sendable, Equatable {
    case open
    case ioctl(V4L2Request)
    case mmap
    case poll
}

public final class EmulatedVideoSystem: VideoDeviceSystem, @unchecked Sendable {
    // MARK: - State (all guarded by `monitor`)

    private final class Buffer {
        let index: Int
        let memory: UnsafeMutableRawPointer
        let length: Int
        let offset: Int
        var queued = false
        var done = false
        var bytesUsed = 0
        var sequence: UInt32 = 0
        var timestamp: UInt64 = 0
        var flags: UInt32 = 0
        var mapCount = 0

        init(index: Int, length: Int) {
            self.index = index
            self.length = length
            offset = index * length
            memory = .allocate(byteCount: length, alignment: 4096)
            memory.initializeMemory(as: UInt8.self, repeating: 0, count: length)
        }

        func free() { memory.deallocate() }
    }

    private final class Device {
        let path: String
        let model: EmulatedCameraModel
        var gone = false
        var goneError = ENODEV
        var busyElsewhere = false
        var stalled = false
        var corruptRemaining = 0

        // Format.
        var formatIndex = 0
        var sizeIndex = 0
        var bytesPerLine = 0
        var sizeImage = 0
        var frameRate: Double

        // Buffers and streaming.
        var owner: Int32?
        var buffers: [Buffer] = []
        var incoming: [Int] = []
        var done: [Int] = []
        var streaming = false
        var sequence: UInt32 = 0
        var nextDue: UInt64 = 0

        init(path: String, model: EmulatedCameraModel) {
            self.path = path
            self.model = model
            frameRate = model.formats.first?.sizes.first?.frameRates.first ?? 30
            if !model.formats.isEmpty { setFormat(0, 0) }
        }

        var format: EmulatedCameraModel.Format { model.formats[formatIndex] }
        var size: EmulatedCameraModel.Size { format.sizes[sizeIndex] }
        var interval: UInt64 { UInt64(1e9 / max(frameRate, 0.001)) }

        func setFormat(_ f: Int, _ s: Int) {
            formatIndex = f
            sizeIndex = s
            let g = model.formats[f].sizes[s].geometry
            if let bpp = model.formats[f].bytesPerPixel {
                bytesPerLine = g.width * bpp + model.rowPadding
                sizeImage = bytesPerLine * g.height
            } else {
                bytesPerLine = 0
                sizeImage = g.width * g.height
            }
            let rates = model.formats[f].sizes[s].frameRates
            if !rates.contains(frameRate) { frameRate = rates.first ?? 30 }
        }
    }

    private struct Descriptor {
        let device: Device
        let nonBlocking: Bool
    }

    private struct Injection {
        var call: EmulatedCall
        var code: Int32
        var skip: Int
        var remaining: Int
    }

    private let monitor = Monitor()
    private var devices: [String: Device] = [:]
    private var descriptors: [Int32: Descriptor] = [:]
    private var mappings: [UnsafeMutableRawPointer: Buffer] = [:]
    private var orphans: [Buffer] = []
    private var nextDescriptor: Int32 = 1000
    private var injections: [Injection] = []
    private var requestCounts = [Int](repeating: 0, count: V4L2Request.all.count)
    private var liveBuffers = 0

    public init() {}

    deinit {
        var seen = Set<ObjectIdentifier>()
        for device in Array(devices.values) + descriptors.values.map(\.device)
        where seen.insert(ObjectIdentifier(device)).inserted {
            for b in device.buffers { b.free() }
        }
        for b in orphans { b.free() }
    }

    // MARK: - Controlling the emulation

    /// Plugs a camera in at `path`. If `model` is nil, the model the path had before is used.
    public func plug(_ path: String = "/dev/video0", model: EmulatedCameraModel? = nil) {
        monitor.withLock {
            if let existing = devices[path], !existing.gone { return }
            let m = model ?? lastModels[path] ?? .webcam()
            lastModels[path] = m
            devices[path] = Device(path: path, model: m)
        }
        monitor.broadcast()
    }

    private var lastModels: [String: EmulatedCameraModel] = [:]

    /// Unplugs the camera: calls on its open descriptors fail with `error` (ENODEV, or EIO as some
    /// drivers report a failing USB transfer), poll reports POLLERR | POLLHUP, and the node vanishes.
    public func unplug(_ path: String = "/dev/video0", error: Int32 = ENODEV) {
        monitor.withLock {
            guard let device = devices.removeValue(forKey: path) else { return }
            device.gone = true
            device.goneError = error
            device.streaming = false
        }
        monitor.broadcast()
    }

    /// Stops (or restarts) frames arriving while the camera stays connected and streaming.
    public func stall(_ stalled: Bool = true, path: String = "/dev/video0") {
        monitor.withLock {
            guard let device = devices[path] else { return }
            device.stalled = stalled
            if !stalled { device.nextDue = MonotonicClock.now() }
        }
        monitor.broadcast()
    }

    /// Pretends another program holds the camera's buffers: S_FMT, REQBUFS and STREAMON fail with EBUSY.
    public func setBusy(_ busy: Bool = true, path: String = "/dev/video0") {
        monitor.withLock { devices[path]?.busyElsewhere = busy }
    }

    /// The next `count` frames come out flagged V4L2_BUF_FLAG_ERROR (corrupt data).
    public func corruptNextFrames(_ count: Int, path: String = "/dev/video0") {
        monitor.withLock { devices[path]?.corruptRemaining = count }
    }

    /// Makes `times` calls of `call`, after the next `after` ones, fail with `code` and no other
    /// effect (EINTR, EAGAIN, ENOMEM for mmap, EIO for DQBUF, …).
    public func inject(_ code: Int32, into call: EmulatedCall, times: Int = 1, after: Int = 0) {
        monitor.withLock { injections.append(Injection(call: call, code: code, skip: after, remaining: times)) }
    }

    // MARK: - Inspecting the emulation

    /// Descriptors open now (leak checks).
    public var openDescriptorCount: Int { monitor.withLock { descriptors.count } }
    /// Buffer mappings not yet unmapped.
    public var mappingCount: Int { monitor.withLock { mappings.values.reduce(0) { $0 + $1.mapCount } } }
    /// Buffer memory blocks not yet freed (with the device's own and orphaned ones).
    public var allocatedBufferCount: Int { monitor.withLock { liveBuffers } }
    /// Whether the camera at `path` is streaming now.
    public func isStreaming(_ path: String = "/dev/video0") -> Bool { monitor.withLock { devices[path]?.streaming ?? false } }
    /// How many times `request` was issued (failed attempts included).
    public func count(of request: V4L2Request) -> Int {
        monitor.withLock { V4L2Request.all.firstIndex(of: request).map { requestCounts[$0] } ?? 0 }
    }

    // MARK: - VideoDeviceSystem

    public func deviceNodes() -> [String] {
        sortDeviceNodes(monitor.withLock { Array(devices.keys) })
    }

    public func open(_ path: String, flags: Int32) -> Int32 {
        monitor.withLock {
            if let code = takeInjection(.open) { return -code }
            guard let device = devices[path] else { return -ENOENT }
            let fd = nextDescriptor
            nextDescriptor += 1
            descriptors[fd] = Descriptor(device: device, nonBlocking: flags & O_NONBLOCK != 0)
            return fd
        }
    }

    public func close(_ fd: Int32) -> Int32 {
        monitor.withLock {
            guard let descriptor = descriptors.removeValue(forKey: fd) else { return -EBADF }
            let device = descriptor.device
            if device.owner == fd {
                // Closing the owner releases the queue, as vb2_fop_release does.
                device.streaming = false
                releaseBuffers(device)
                device.owner = nil
            }
            monitor.broadcast()
            return 0
        }
    }

    public func mmap(length: Int, offset: Int, fd: Int32) -> (address: UnsafeMutableRawPointer?, error: Int32) {
        monitor.withLock {
            if let code = takeInjection(.mmap) { return (nil, code) }
            guard let descriptor = descriptors[fd] else { return (nil, EBADF) }
            let device = descriptor.device
            if device.gone { return (nil, ENODEV) }
            guard let buffer = device.buffers.first(where: { $0.offset == offset }), length > 0, length <= buffer.length else {
                return (nil, EINVAL)
            }
            buffer.mapCount += 1
            mappings[buffer.memory] = buffer
            return (buffer.memory, 0)
        }
    }

    public func munmap(_ address: UnsafeMutableRawPointer, length: Int) -> Int32 {
        monitor.withLock {
            guard let buffer = mappings[address] else { return -EINVAL }
            buffer.mapCount -= 1
            if buffer.mapCount == 0 {
                mappings[address] = nil
                if let i = orphans.firstIndex(where: { $0 === buffer }) {
                    orphans.remove(at: i)
                    buffer.free()
                    liveBuffers -= 1
                }
            }
            return 0
        }
    }

    public func poll(_ fd: Int32, events: Int16, timeoutMilliseconds: Int32) -> (result: Int32, returnedEvents: Int16) {
        monitor.lock()
        defer { monitor.unlock() }
        if let code = takeInjection(.poll) { return (-code, 0) }
        let start = MonotonicClock.now()
        let deadline = timeoutMilliseconds < 0 ? UInt64.max : start &+ UInt64(timeoutMilliseconds) * 1_000_000
        while true {
            guard let descriptor = descriptors[fd] else { return (1, Int16(POLLNVAL)) }
            let device = descriptor.device
            if device.gone { return (1, Int16(POLLERR | POLLHUP)) }
            if !device.streaming || device.owner != fd { return (1, Int16(POLLERR)) }
            let now = MonotonicClock.now()
            advance(device, now: now)
            if !device.done.isEmpty { return (1, Int16(POLLIN | POLLRDNORM)) }
            if now >= deadline { return (0, 0) }
            var wake = deadline
            if device.model.paced && !device.stalled && !device.incoming.isEmpty { wake = min(wake, device.nextDue) }
            monitor.wait(until: wake)
        }
    }

    public func ioctl(_ fd: Int32, _ request: UInt, _ argument: UnsafeMutableRawPointer) -> Int32 {
        monitor.lock()
        defer { monitor.unlock() }
        if let i = V4L2Request.all.firstIndex(where: { $0.code == request }) {
            requestCounts[i] += 1
            if let code = takeInjection(.ioctl(V4L2Request.all[i])) { return -code }
        }
        guard let descriptor = descriptors[fd] else { return -EBADF }
        let device = descriptor.device
        if device.model.node == .notV4L2 { return -ENOTTY }
        if device.gone { return -device.goneError }

        switch request {
        case V4L2Request.queryCapabilities.code:
            return queryCapabilities(device, argument.assumingMemoryBound(to: v4l2_capability.self))
        case V4L2Request.enumerateFormats.code:
            return enumerateFormats(device, argument.assumingMemoryBound(to: v4l2_fmtdesc.self))
        case V4L2Request.enumerateFrameSizes.code:
            return enumerateFrameSizes(device, argument.assumingMemoryBound(to: v4l2_frmsizeenum.self))
        case V4L2Request.enumerateFrameIntervals.code:
            return enumerateFrameIntervals(device, argument.assumingMemoryBound(to: v4l2_frmivalenum.self))
        case V4L2Request.getFormat.code:
            return getFormat(device, argument.assumingMemoryBound(to: v4l2_format.self))
        case V4L2Request.tryFormat.code:
            return setFormat(device, fd: fd, argument.assumingMemoryBound(to: v4l2_format.self), apply: false)
        case V4L2Request.setFormat.code:
            return setFormat(device, fd: fd, argument.assumingMemoryBound(to: v4l2_format.self), apply: true)
        case V4L2Request.getParameters.code:
            return parameters(device, argument.assumingMemoryBound(to: v4l2_streamparm.self), set: false)
        case V4L2Request.setParameters.code:
            return parameters(device, argument.assumingMemoryBound(to: v4l2_streamparm.self), set: true)
        case V4L2Request.requestBuffers.code:
            return requestBuffers(device, fd: fd, argument.assumingMemoryBound(to: v4l2_requestbuffers.self))
        case V4L2Request.queryBuffer.code:
            return queryBuffer(device, argument.assumingMemoryBound(to: v4l2_buffer.self))
        case V4L2Request.queueBuffer.code:
            return queueBuffer(device, fd: fd, argument.assumingMemoryBound(to: v4l2_buffer.self))
        case V4L2Request.dequeueBuffer.code:
            return dequeueBuffer(device, fd: fd, nonBlocking: descriptor.nonBlocking,
                                 argument.assumingMemoryBound(to: v4l2_buffer.self))
        case V4L2Request.streamOn.code:
            return streamOn(device, fd: fd, argument.assumingMemoryBound(to: Int32.self))
        case V4L2Request.streamOff.code:
            return streamOff(device, fd: fd, argument.assumingMemoryBound(to: Int32.self))
        default:
            return -ENOTTY
        }
    }

    // MARK: - Requests

    private func takeInjection(_ call: EmulatedCall) -> Int32? {
        guard !injections.isEmpty, let i = injections.firstIndex(where: { $0.call == call && $0.remaining > 0 }) else {
            return nil
        }
        if injections[i].skip > 0 {
            injections[i].skip -= 1
            return nil
        }
        injections[i].remaining -= 1
        let code = injections[i].code
        if injections[i].remaining == 0 { injections.remove(at: i) }
        return code
    }

    private func queryCapabilities(_ device: Device, _ caps: UnsafeMutablePointer<v4l2_capability>) -> Int32 {
        var c = v4l2_capability()
        setCString(&c.driver, device.model.driver)
        setCString(&c.card, device.model.card)
        setCString(&c.bus_info, device.model.busInfo)
        c.version = 0x0006_0100
        let nodeCaps = device.model.node == .metadata ? V4L2.capMetaCapture | V4L2.capStreaming
                                                      : V4L2.capVideoCapture | V4L2.capStreaming
        c.device_caps = nodeCaps
        c.capabilities = nodeCaps | V4L2.capDeviceCaps
        caps.pointee = c
        return 0
    }

    private func enumerateFormats(_ device: Device, _ desc: UnsafeMutablePointer<v4l2_fmtdesc>) -> Int32 {
        guard desc.pointee.type == V4L2.captureType, device.model.node == .videoCapture else { return -EINVAL }
        let i = Int(desc.pointee.index)
        guard i < device.model.formats.count else { return -EINVAL }
        let f = device.model.formats[i]
        desc.pointee.flags = f.emulated ? V4L2.formatFlagEmulated : 0
        desc.pointee.pixelformat = f.fourcc.rawValue
        setCString(&desc.pointee.description, f.description)
        return 0
    }

    private func enumerateFrameSizes(_ device: Device, _ e: UnsafeMutablePointer<v4l2_frmsizeenum>) -> Int32 {
        guard let f = device.model.formats.first(where: { $0.fourcc.rawValue == e.pointee.pixel_format }) else { return -EINVAL }
        let i = Int(e.pointee.index)
        guard i < f.sizes.count else { return -EINVAL }
        e.pointee.type = V4L2.frameSizeDiscrete
        e.pointee.discrete.width = UInt32(f.sizes[i].geometry.width)
        e.pointee.discrete.height = UInt32(f.sizes[i].geometry.height)
        return 0
    }

    private func enumerateFrameIntervals(_ device: Device, _ e: UnsafeMutablePointer<v4l2_frmivalenum>) -> Int32 {
        guard let f = device.model.formats.first(where: { $0.fourcc.rawValue == e.pointee.pixel_format }),
              let size = f.sizes.first(where: { $0.geometry.width == Int(e.pointee.width) && $0.geometry.height == Int(e.pointee.height) })
        else { return -EINVAL }
        let i = Int(e.pointee.index)
        guard i < size.frameRates.count else { return -EINVAL }
        e.pointee.type = V4L2.frameIntervalDiscrete
        e.pointee.discrete = Self.fraction(ofRate: size.frameRates[i])
        return 0
    }

    /// The time per frame of a rate, as V4L2 writes it (1/30, 1000/29970, …).
    static func fraction(ofRate fps: Double) -> v4l2_fract {
        fps == fps.rounded() ? v4l2_fract(numerator: 1, denominator: UInt32(fps))
                             : v4l2_fract(numerator: 1000, denominator: UInt32((fps * 1000).rounded()))
    }

    private func fill(_ pix: inout v4l2_pix_format, _ device: Device) {
        let g = device.size.geometry
        pix.width = UInt32(g.width)
        pix.height = UInt32(g.height)
        pix.pixelformat = device.format.fourcc.rawValue
        pix.field = V4L2.fieldNone
        pix.bytesperline = UInt32(device.bytesPerLine)
        pix.sizeimage = UInt32(device.sizeImage)
        pix.colorspace = V4L2_COLORSPACE_SRGB.rawValue
    }

    private func getFormat(_ device: Device, _ format: UnsafeMutablePointer<v4l2_format>) -> Int32 {
        guard format.pointee.type == V4L2.captureType, device.model.node == .videoCapture else { return -EINVAL }
        fill(&format.pointee.fmt.pix, device)
        return 0
    }

    private func setFormat(_ device: Device, fd: Int32, _ format: UnsafeMutablePointer<v4l2_format>, apply: Bool) -> Int32 {
        guard format.pointee.type == V4L2.captureType, device.model.node == .videoCapture else { return -EINVAL }
        if apply {
            if device.busyElsewhere || device.streaming { return -EBUSY }
            if let owner = device.owner, owner != fd || !device.buffers.isEmpty { return -EBUSY }
        }
        let wanted = format.pointee.fmt.pix
        var f = device.model.formats.firstIndex { $0.fourcc.rawValue == wanted.pixelformat }
        if f == nil {
            if device.model.rejectsUnknownFormats { return -EINVAL }
            f = device.formatIndex
        }
        let sizes = device.model.formats[f!].sizes
        // Nearest supported size: the smallest sum of width and height differences.
        var best = 0, bestDistance = Int.max
        for (i, s) in sizes.enumerated() {
            let d = abs(s.geometry.width - Int(wanted.width)) + abs(s.geometry.height - Int(wanted.height))
            if d < bestDistance { (best, bestDistance) = (i, d) }
        }
        if apply {
            device.setFormat(f!, best)
            fill(&format.pointee.fmt.pix, device)
        } else {
            let saved = (device.formatIndex, device.sizeIndex, device.frameRate)
            device.setFormat(f!, best)
            fill(&format.pointee.fmt.pix, device)
            device.setFormat(saved.0, saved.1)
            device.frameRate = saved.2
        }
        return 0
    }

    private func parameters(_ device: Device, _ parm: UnsafeMutablePointer<v4l2_streamparm>, set: Bool) -> Int32 {
        guard parm.pointee.type == V4L2.captureType, device.model.node == .videoCapture else { return -EINVAL }
        if set {
            let t = parm.pointee.parm.capture.timeperframe
            if t.numerator > 0 && t.denominator > 0 {
                let wanted = Double(t.denominator) / Double(t.numerator)
                let rates = device.size.frameRates
                device.frameRate = rates.min { abs($0 - wanted) < abs($1 - wanted) } ?? device.frameRate
            }
        }
        var capture = v4l2_captureparm()
        capture.capability = V4L2.capTimePerFrame
        capture.timeperframe = Self.fraction(ofRate: device.frameRate)
        capture.readbuffers = 0
        parm.pointee.parm.capture = capture
        return 0
    }

    private func requestBuffers(_ device: Device, fd: Int32, _ request: UnsafeMutablePointer<v4l2_requestbuffers>) -> Int32 {
        guard request.pointee.type == V4L2.captureType, device.model.node == .videoCapture else { return -EINVAL }
        guard request.pointee.memory == V4L2.memoryMMap else { return -EINVAL }
        if let owner = device.owner, owner != fd { return -EBUSY }
        if device.streaming { return -EBUSY }
        if device.busyElsewhere && request.pointee.count > 0 { return -EBUSY }
        releaseBuffers(device)
        request.pointee.capabilities = UInt32(truncatingIfNeeded: V4L2_BUF_CAP_SUPPORTS_MMAP)
        guard request.pointee.count > 0 else {
            device.owner = nil
            return 0
        }
        let count = min(max(Int(request.pointee.count), device.model.minimumBuffers), device.model.maximumBuffers)
        let length = (device.sizeImage + 4095) & ~4095
        device.buffers = (0..<count).map { Buffer(index: $0, length: length) }
        liveBuffers += count
        device.incoming.reserveCapacity(count)
        device.done.reserveCapacity(count)
        for buffer in device.buffers { paint(buffer, device) }
        device.owner = fd
        request.pointee.count = UInt32(count)
        return 0
    }

    /// Frees the device's buffers; mapped ones are orphaned and freed at their last munmap.
    private func releaseBuffers(_ device: Device) {
        for buffer in device.buffers {
            if buffer.mapCount > 0 {
                orphans.append(buffer)
            } else {
                buffer.free()
                liveBuffers -= 1
            }
        }
        device.buffers.removeAll()
        device.incoming.removeAll()
        device.done.removeAll()
    }

    private func describe(_ buffer: Buffer, into b: UnsafeMutablePointer<v4l2_buffer>) {
        b.pointee.bytesused = UInt32(buffer.bytesUsed)
        var flags = buffer.flags | V4L2.bufferFlagTimestampMonotonic
        if buffer.mapCount > 0 { flags |= V4L2.bufferFlagMapped }
        if buffer.queued { flags |= V4L2.bufferFlagQueued }
        if buffer.done { flags |= V4L2.bufferFlagDone }
        b.pointee.flags = flags
        b.pointee.field = V4L2.fieldNone
        b.pointee.sequence = buffer.sequence
        b.pointee.timestamp.tv_sec = Int(buffer.timestamp / 1_000_000_000)
        b.pointee.timestamp.tv_usec = Int(buffer.timestamp % 1_000_000_000 / 1000)
        b.pointee.m.offset = UInt32(buffer.offset)
        b.pointee.length = UInt32(buffer.length)
    }

    private func queryBuffer(_ device: Device, _ b: UnsafeMutablePointer<v4l2_buffer>) -> Int32 {
        guard b.pointee.type == V4L2.captureType, Int(b.pointee.index) < device.buffers.count else { return -EINVAL }
        describe(device.buffers[Int(b.pointee.index)], into: b)
        return 0
    }

    private func queueBuffer(_ device: Device, fd: Int32, _ b: UnsafeMutablePointer<v4l2_buffer>) -> Int32 {
        if let owner = device.owner, owner != fd { return -EBUSY }
        guard b.pointee.type == V4L2.captureType, b.pointee.memory == V4L2.memoryMMap,
              Int(b.pointee.index) < device.buffers.count else { return -EINVAL }
        let buffer = device.buffers[Int(b.pointee.index)]
        guard !buffer.queued && !buffer.done else { return -EINVAL }
        buffer.queued = true
        buffer.flags = 0
        device.incoming.append(buffer.index)
        describe(buffer, into: b)
        monitor.broadcast()
        return 0
    }

    private func dequeueBuffer(_ device: Device, fd: Int32, nonBlocking: Bool, _ b: UnsafeMutablePointer<v4l2_buffer>) -> Int32 {
        if let owner = device.owner, owner != fd { return -EBUSY }
        guard b.pointee.type == V4L2.captureType, b.pointee.memory == V4L2.memoryMMap else { return -EINVAL }
        while true {
            if device.gone { return -device.goneError }
            guard device.streaming else { return -EINVAL }
            advance(device, now: MonotonicClock.now())
            if !device.done.isEmpty { break }
            if nonBlocking { return -EAGAIN }
            var wake = UInt64.max
            if device.model.paced && !device.stalled && !device.incoming.isEmpty { wake = device.nextDue }
            monitor.wait(until: wake)
        }
        let buffer = device.buffers[device.done.removeFirst()]
        buffer.done = false
        b.pointee.index = UInt32(buffer.index)
        describe(buffer, into: b)
        return 0
    }

    private func streamOn(_ device: Device, fd: Int32, _ type: UnsafeMutablePointer<Int32>) -> Int32 {
        guard UInt32(bitPattern: type.pointee) == V4L2.captureType else { return -EINVAL }
        if device.busyElsewhere { return -EBUSY }
        guard let owner = device.owner, !device.buffers.isEmpty else { return -EINVAL }
        if owner != fd { return -EBUSY }
        if device.streaming { return 0 }
        device.streaming = true
        device.sequence = 0
        device.nextDue = MonotonicClock.now() &+ (device.model.paced ? device.interval : 0)
        monitor.broadcast()
        return 0
    }

    private func streamOff(_ device: Device, fd: Int32, _ type: UnsafeMutablePointer<Int32>) -> Int32 {
        guard UInt32(bitPattern: type.pointee) == V4L2.captureType else { return -EINVAL }
        if let owner = device.owner, owner != fd { return -EBUSY }
        device.streaming = false
        // Every buffer goes back to the application, dequeued.
        for buffer in device.buffers {
            buffer.queued = false
            buffer.done = false
        }
        device.incoming.removeAll(keepingCapacity: true)
        device.done.removeAll(keepingCapacity: true)
        monitor.broadcast()
        return 0
    }

    // MARK: - Frames

    /// Fills queued buffers with the frames due by `now`.
    private func advance(_ device: Device, now: UInt64) {
        guard device.streaming, !device.stalled, !device.gone else { return }
        if !device.model.paced {
            while !device.incoming.isEmpty { produce(device, at: now) }
            return
        }
        let interval = device.interval
        // After a long gap (a stall, a slow reader), frames that were never captured are skipped.
        if now > device.nextDue &+ 8 &* interval {
            let missed = (now - device.nextDue) / interval
            device.sequence &+= UInt32(truncatingIfNeeded: missed)
            device.nextDue &+= missed &* interval
        }
        while device.nextDue <= now {
            if device.incoming.isEmpty {
                device.sequence &+= 1   // the driver had no buffer: the frame is lost
            } else {
                produce(device, at: device.nextDue)
            }
            device.nextDue &+= interval
        }
    }

    private func produce(_ device: Device, at time: UInt64) {
        let buffer = device.buffers[device.incoming.removeFirst()]
        buffer.queued = false
        buffer.done = true
        buffer.sequence = device.sequence
        device.sequence &+= 1
        buffer.timestamp = time
        buffer.bytesUsed = device.sizeImage
        buffer.flags = 0
        if device.corruptRemaining > 0 {
            device.corruptRemaining -= 1
            buffer.flags = V4L2.bufferFlagError
        }
        // Stamp the sequence at both ends of the frame.
        var stamp = UInt64(buffer.sequence).littleEndian
        let n = EmulatedCameraModel.stampBytes
        if device.sizeImage >= 2 * n {
            withUnsafeBytes(of: &stamp) { s in
                buffer.memory.copyMemory(from: s.baseAddress!, byteCount: n)
                (buffer.memory + device.sizeImage - n).copyMemory(from: s.baseAddress!, byteCount: n)
            }
        }
        device.done.append(buffer.index)
    }

    /// Paints the test pattern into a new buffer in the device's current format.
    private func paint(_ buffer: Buffer, _ device: Device) {
        let g = device.size.geometry
        let bytes = buffer.memory.assumingMemoryBound(to: UInt8.self)
        switch device.format.fourcc.layout {
        case .rgb24?, .bgr24?:
            let bgr = device.format.fourcc == .bgr24
            for y in 0..<g.height {
                let row = bytes + y * device.bytesPerLine
                for x in 0..<g.width {
                    let p = EmulatedCameraModel.patternRGB(x: x, y: y)
                    row[x * 3] = bgr ? p.b : p.r
                    row[x * 3 + 1] = p.g
                    row[x * 3 + 2] = bgr ? p.r : p.b
                }
            }
        case .yuyv?:
            for y in 0..<g.height {
                let row = bytes + y * device.bytesPerLine
                for x in stride(from: 0, to: g.width, by: 2) {
                    let p0 = EmulatedCameraModel.patternYUYV(x: x, y: y)
                    let p1 = EmulatedCameraModel.patternYUYV(x: x + 1, y: y)
                    row[x * 2] = p0.luma
                    row[x * 2 + 1] = p0.u
                    row[x * 2 + 2] = p1.luma
                    row[x * 2 + 3] = p0.v
                }
            }
        case nil:
            // A compressed format: leave the bytes zero.
            break
        }
    }
}
