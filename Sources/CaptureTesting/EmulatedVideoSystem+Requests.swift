// The emulated V4L2 ioctls, one handler per request, after the specification's ioctl pages and
// videobuf2's behaviour (see `EmulatedVideoSystem`). Each runs with the system's monitor held.

#if canImport(Glibc)
import Glibc
#endif
import Capture
import CV4L2
import Support

extension EmulatedVideoSystem {
    func takeInjection(_ call: EmulatedCall) -> Int32? {
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

    func queryCapabilities(_ device: Device, _ caps: UnsafeMutablePointer<v4l2_capability>) -> Int32 {
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

    func enumerateFormats(_ device: Device, _ desc: UnsafeMutablePointer<v4l2_fmtdesc>) -> Int32 {
        guard desc.pointee.type == V4L2.captureType, device.model.node == .videoCapture else { return -EINVAL }
        let i = Int(desc.pointee.index)
        guard i < device.model.formats.count else { return -EINVAL }
        let f = device.model.formats[i]
        desc.pointee.flags = f.emulated ? V4L2.formatFlagEmulated : 0
        desc.pointee.pixelformat = f.fourcc.rawValue
        setCString(&desc.pointee.description, f.description)
        return 0
    }

    func enumerateFrameSizes(_ device: Device, _ e: UnsafeMutablePointer<v4l2_frmsizeenum>) -> Int32 {
        guard let f = device.model.formats.first(where: { $0.fourcc.rawValue == e.pointee.pixel_format }) else { return -EINVAL }
        let i = Int(e.pointee.index)
        guard i < f.sizes.count else { return -EINVAL }
        e.pointee.type = V4L2.frameSizeDiscrete
        e.pointee.discrete.width = UInt32(f.sizes[i].geometry.width)
        e.pointee.discrete.height = UInt32(f.sizes[i].geometry.height)
        return 0
    }

    func enumerateFrameIntervals(_ device: Device, _ e: UnsafeMutablePointer<v4l2_frmivalenum>) -> Int32 {
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

    func fill(_ pix: inout v4l2_pix_format, _ device: Device) {
        let g = device.size.geometry
        pix.width = UInt32(g.width)
        pix.height = UInt32(g.height)
        pix.pixelformat = device.format.fourcc.rawValue
        pix.field = V4L2.fieldNone
        pix.bytesperline = UInt32(device.bytesPerLine)
        pix.sizeimage = UInt32(device.sizeImage)
        pix.colorspace = V4L2_COLORSPACE_SRGB.rawValue
    }

    func getFormat(_ device: Device, _ format: UnsafeMutablePointer<v4l2_format>) -> Int32 {
        guard format.pointee.type == V4L2.captureType, device.model.node == .videoCapture else { return -EINVAL }
        fill(&format.pointee.fmt.pix, device)
        return 0
    }

    func setFormat(_ device: Device, fd: Int32, _ format: UnsafeMutablePointer<v4l2_format>, apply: Bool) -> Int32 {
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

    func parameters(_ device: Device, _ parm: UnsafeMutablePointer<v4l2_streamparm>, set: Bool) -> Int32 {
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

    func requestBuffers(_ device: Device, fd: Int32, _ request: UnsafeMutablePointer<v4l2_requestbuffers>) -> Int32 {
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
    func releaseBuffers(_ device: Device) {
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

    func describe(_ buffer: Buffer, into b: UnsafeMutablePointer<v4l2_buffer>) {
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

    func queryBuffer(_ device: Device, _ b: UnsafeMutablePointer<v4l2_buffer>) -> Int32 {
        guard b.pointee.type == V4L2.captureType, Int(b.pointee.index) < device.buffers.count else { return -EINVAL }
        describe(device.buffers[Int(b.pointee.index)], into: b)
        return 0
    }

    func queueBuffer(_ device: Device, fd: Int32, _ b: UnsafeMutablePointer<v4l2_buffer>) -> Int32 {
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

    func dequeueBuffer(_ device: Device, fd: Int32, nonBlocking: Bool, _ b: UnsafeMutablePointer<v4l2_buffer>) -> Int32 {
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

    func streamOn(_ device: Device, fd: Int32, _ type: UnsafeMutablePointer<Int32>) -> Int32 {
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

    func streamOff(_ device: Device, fd: Int32, _ type: UnsafeMutablePointer<Int32>) -> Int32 {
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
}
