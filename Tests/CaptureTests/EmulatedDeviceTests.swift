import Capture
import CV4L2
import CaptureTesting
import Glibc
import Testing

/// The emulated device follows the V4L2 specification; these tests pin the behaviour capture relies on.
@Suite("Emulated V4L2 device")
struct EmulatedDeviceTests {
    let system = EmulatedVideoSystem()

    init() {
        system.plug("/dev/video0", model: .webcam())
    }

    func open(_ flags: Int32 = O_RDWR | O_NONBLOCK) throws -> DeviceHandle {
        try DeviceHandle.open("/dev/video0", system: system, flags: flags)
    }

    func setFormat(_ handle: DeviceHandle, _ fourcc: FourCC, _ w: Int, _ h: Int, apply: Bool = true) throws -> v4l2_pix_format {
        var f = v4l2_format()
        f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        f.fmt.pix.width = UInt32(w)
        f.fmt.pix.height = UInt32(h)
        f.fmt.pix.pixelformat = fourcc.rawValue
        try handle.control(apply ? .setFormat : .tryFormat, &f)
        return f.fmt.pix
    }

    func requestBuffers(_ handle: DeviceHandle, _ count: Int) throws -> Int {
        var r = v4l2_requestbuffers()
        r.count = UInt32(count)
        r.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        r.memory = V4L2_MEMORY_MMAP.rawValue
        try handle.control(.requestBuffers, &r)
        return Int(r.count)
    }

    func buffer(_ index: Int) -> v4l2_buffer {
        var b = v4l2_buffer()
        b.index = UInt32(index)
        b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        b.memory = V4L2_MEMORY_MMAP.rawValue
        return b
    }

    func stream(_ handle: DeviceHandle, on: Bool) throws {
        var type = Int32(V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue)
        try handle.control(on ? .streamOn : .streamOff, &type)
    }

    @Test("S_FMT adjusts an unsupported size to the nearest supported one and fills bytesperline and sizeimage")
    func sizeAdjusted() throws {
        let h = try open()
        defer { h.close() }
        let pix = try setFormat(h, .rgb24, 700, 500)
        #expect((pix.width, pix.height) == (640, 480))
        #expect(pix.pixelformat == FourCC.rgb24.rawValue)
        #expect(pix.bytesperline == 640 * 3 && pix.sizeimage == 640 * 480 * 3)
        let yuyv = try setFormat(h, .yuyv, 1300, 800)
        #expect((yuyv.width, yuyv.height, yuyv.bytesperline) == (1280, 720, 1280 * 2))
    }

    @Test("S_FMT substitutes a supported format for an unknown one; an old driver fails with EINVAL instead")
    func unknownFormat() throws {
        let h = try open()
        defer { h.close() }
        let pix = try setFormat(h, FourCC("XXXX"), 640, 480)
        #expect(pix.pixelformat != FourCC("XXXX").rawValue)

        let old = EmulatedVideoSystem()
        var model = EmulatedCameraModel.single(.yuyv)
        model.rejectsUnknownFormats = true
        old.plug("/dev/video0", model: model)
        let o = try DeviceHandle.open("/dev/video0", system: old)
        defer { o.close() }
        var f = v4l2_format()
        f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        f.fmt.pix.pixelformat = FourCC.rgb24.rawValue
        #expect(controlError(o, .setFormat, f) == V4L2Error(call: "VIDIOC_S_FMT", path: "/dev/video0", code: EINVAL))
    }

    @Test("TRY_FMT adjusts like S_FMT but changes nothing")
    func tryFormat() throws {
        let h = try open()
        defer { h.close() }
        _ = try setFormat(h, .rgb24, 320, 240)
        let tried = try setFormat(h, .yuyv, 1280, 720, apply: false)
        #expect(tried.width == 1280)
        var g = v4l2_format()
        g.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        try h.control(.getFormat, &g)
        #expect((g.fmt.pix.width, g.fmt.pix.pixelformat) == (320, FourCC.rgb24.rawValue))
    }

    @Test("REQBUFS clamps the count; buffers are queued and dequeued in order with rising sequence numbers")
    func fifoOrder() throws {
        let h = try open()
        defer { h.close() }
        _ = try setFormat(h, .rgb24, 320, 240)
        #expect(try requestBuffers(h, 1) == 2)
        #expect(try requestBuffers(h, 100) == 32)
        let count = try requestBuffers(h, 4)
        #expect(count == 4)
        for i in [2, 0, 3, 1] {
            var b = buffer(i)
            try h.control(.queueBuffer, &b)
        }
        let again = buffer(0)
        #expect(controlError(h, .queueBuffer, again) == V4L2Error(call: "VIDIOC_QBUF", path: "/dev/video0", code: EINVAL))
        try stream(h, on: true)
        var order: [UInt32] = [], sequences: [UInt32] = []
        while order.count < 4 {
            _ = system.poll(h.fd, events: Int16(POLLIN), timeoutMilliseconds: 1000)
            var b = buffer(0)
            var failure: V4L2Error?
            do { try h.control(.dequeueBuffer, &b) } catch { failure = error }
            if failure?.kind == .wouldBlock { continue }
            guard failure == nil else { Issue.record("VIDIOC_DQBUF failed: \(failure!)"); break }
            order.append(b.index)
            sequences.append(b.sequence)
            #expect(b.flags & UInt32(V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC) != 0)
        }
        #expect(order == [2, 0, 3, 1])
        #expect(sequences == sequences.sorted() && Set(sequences).count == 4)
        try stream(h, on: false)
    }

    @Test("DQBUF is EAGAIN with nothing ready on a non-blocking descriptor, EINVAL when not streaming")
    func dequeueErrors() throws {
        let h = try open()
        defer { h.close() }
        _ = try requestBuffers(h, 2)
        var b = buffer(0)
        #expect(controlError(h, .dequeueBuffer, b) == V4L2Error(call: "VIDIOC_DQBUF", path: "/dev/video0", code: EINVAL))
        var q = buffer(0)
        try h.control(.queueBuffer, &q)
        try stream(h, on: true)
        // The webcam runs at 30 fps: the first frame is 33 ms away.
        #expect(controlError(h, .dequeueBuffer, b) == V4L2Error(call: "VIDIOC_DQBUF", path: "/dev/video0", code: EAGAIN))
        #expect(system.poll(h.fd, events: Int16(POLLIN), timeoutMilliseconds: 0).result == 0)
        #expect(system.poll(h.fd, events: Int16(POLLIN), timeoutMilliseconds: 500).result == 1)
        try h.control(.dequeueBuffer, &b)
        #expect(b.index == 0)
    }

    @Test("STREAMOFF gives every buffer back, dequeued")
    func streamOffReturnsBuffers() throws {
        let h = try open()
        defer { h.close() }
        let n = try requestBuffers(h, 3)
        for i in 0..<n { var b = buffer(i); try h.control(.queueBuffer, &b) }
        try stream(h, on: true)
        try stream(h, on: false)
        for i in 0..<n {
            var b = buffer(i)
            try h.control(.queryBuffer, &b)
            #expect(b.flags & UInt32(V4L2_BUF_FLAG_QUEUED | V4L2_BUF_FLAG_DONE) == 0)
            try h.control(.queueBuffer, &b)   // queueable again
        }
    }

    @Test("a second descriptor gets EBUSY for S_FMT, REQBUFS and QBUF while the first owns the buffers")
    func ownership() throws {
        let owner = try open()
        defer { owner.close() }
        let other = try open()
        defer { other.close() }
        _ = try requestBuffers(owner, 2)
        #expect(throws: V4L2Error(call: "VIDIOC_S_FMT", path: "/dev/video0", code: EBUSY)) { _ = try setFormat(other, .rgb24, 640, 480) }
        #expect(throws: V4L2Error(call: "VIDIOC_REQBUFS", path: "/dev/video0", code: EBUSY)) { _ = try requestBuffers(other, 2) }
        let b = buffer(0)
        #expect(controlError(other, .queueBuffer, b) == V4L2Error(call: "VIDIOC_QBUF", path: "/dev/video0", code: EBUSY))
        // Enumeration still works on the second descriptor, as `v4l2-ctl --list-formats` does.
        var desc = v4l2_fmtdesc()
        desc.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        try other.control(.enumerateFormats, &desc)
    }

    @Test("mmap needs the offset cookie of a buffer; memory stays valid after unplug until munmap")
    func mappingLifetime() throws {
        let h = try open()
        _ = try setFormat(h, .rgb24, 320, 240)
        _ = try requestBuffers(h, 2)
        var b = buffer(1)
        try h.control(.queryBuffer, &b)
        #expect(system.mmap(length: Int(b.length), offset: Int(b.m.offset) + 1, fd: h.fd).error == EINVAL)
        let mapped = system.mmap(length: Int(b.length), offset: Int(b.m.offset), fd: h.fd)
        let address = try #require(mapped.address)
        system.unplug("/dev/video0")
        address.storeBytes(of: 42, as: UInt8.self)   // still writable
        let q = buffer(0)
        #expect(controlError(h, .queueBuffer, q) == V4L2Error(call: "VIDIOC_QBUF", path: "/dev/video0", code: ENODEV))
        let polled = system.poll(h.fd, events: Int16(POLLIN), timeoutMilliseconds: 100)
        #expect(polled.result == 1 && polled.returnedEvents & Int16(POLLERR | POLLHUP) == Int16(POLLERR | POLLHUP))
        #expect(system.open("/dev/video0", flags: O_RDWR) == -ENOENT)
        h.close()
        #expect(system.allocatedBufferCount == 1)   // the mapped one is orphaned
        #expect(system.munmap(address, length: Int(b.length)) == 0)
        #expect(system.allocatedBufferCount == 0 && system.mappingCount == 0 && system.openDescriptorCount == 0)
        #expect(system.munmap(address, length: Int(b.length)) == -EINVAL)
    }

    @Test("the device comes back as a new device at the same path")
    func replug() throws {
        system.unplug("/dev/video0", error: EIO)
        #expect(throws: V4L2Error.self) { try open() }
        system.plug("/dev/video0")
        let h = try open()
        defer { h.close() }
        var caps = v4l2_capability()
        try h.control(.queryCapabilities, &caps)
        #expect(caps.device_caps & UInt32(V4L2_CAP_VIDEO_CAPTURE) != 0)
    }

    @Test("frame sizes and intervals are enumerable per format")
    func enumeration() throws {
        let h = try open()
        defer { h.close() }
        var sizes: [(UInt32, UInt32)] = []
        for i in 0..<10 {
            var e = v4l2_frmsizeenum()
            e.index = UInt32(i)
            e.pixel_format = FourCC.yuyv.rawValue
            do { try h.control(.enumerateFrameSizes, &e) } catch { #expect(error.kind == .invalid); break }
            sizes.append((e.discrete.width, e.discrete.height))
        }
        #expect(sizes.map(\.0) == [320, 640, 1280])
        var iv = v4l2_frmivalenum()
        iv.pixel_format = FourCC.yuyv.rawValue
        iv.width = 640
        iv.height = 480
        try h.control(.enumerateFrameIntervals, &iv)
        #expect((iv.discrete.numerator, iv.discrete.denominator) == (1, 30))
    }

    @Test("a node that is not V4L2 answers ENOTTY; a metadata node has no video capture capability")
    func otherNodes() throws {
        system.plug("/dev/video1", model: EmulatedCameraModel(node: .notV4L2, formats: []))
        system.plug("/dev/video2", model: EmulatedCameraModel(node: .metadata, formats: []))
        let n = try DeviceHandle.open("/dev/video1", system: system)
        defer { n.close() }
        var caps = v4l2_capability()
        #expect(controlError(n, .queryCapabilities, caps) == V4L2Error(call: "VIDIOC_QUERYCAP", path: "/dev/video1", code: ENOTTY))
        let m = try DeviceHandle.open("/dev/video2", system: system)
        defer { m.close() }
        try m.control(.queryCapabilities, &caps)
        #expect(caps.device_caps & UInt32(V4L2_CAP_VIDEO_CAPTURE) == 0)
        #expect(system.deviceNodes() == ["/dev/video0", "/dev/video1", "/dev/video2"])
    }

    @Test("injected errors hit the next calls only")
    func injection() throws {
        system.inject(EINTR, into: .ioctl(.queryCapabilities), times: 3)
        let h = try open()
        defer { h.close() }
        var caps = v4l2_capability()
        try h.control(.queryCapabilities, &caps)   // the wrapper retries through the EINTRs
        #expect(system.count(of: .queryCapabilities) == 4)
    }
}
