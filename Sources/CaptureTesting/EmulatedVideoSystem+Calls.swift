// The system calls of the seam (`VideoDeviceSystem`) on the emulated devices: open, close, mmap,
// munmap, poll, and ioctl dispatched to the request handlers.

#if canImport(Glibc)
import Glibc
#endif
import Capture
import CV4L2
import Support

extension EmulatedVideoSystem {
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
}
