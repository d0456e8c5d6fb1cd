import Capture
import CV4L2
import Glibc
import Testing

/// A seam that answers every call from a script and counts the calls.
final class ScriptedSystem: VideoDeviceSystem, @unchecked Sendable {
    var ioctlResults: [Int32]
    var openResults: [Int32]
    private(set) var ioctlCalls = 0
    private(set) var openCalls = 0
    private(set) var closes: [Int32] = []
    /// What the last ioctl saw in its argument's first 4 bytes, and writes there.
    var written: UInt32 = 0

    init(ioctl: [Int32] = [], open: [Int32] = []) {
        ioctlResults = ioctl
        openResults = open
    }

    func deviceNodes() -> [String] { [] }
    func open(_ path: String, flags: Int32) -> Int32 {
        openCalls += 1
        return openResults.isEmpty ? 3 : openResults.removeFirst()
    }
    func ioctl(_ fd: Int32, _ request: UInt, _ argument: UnsafeMutableRawPointer) -> Int32 {
        ioctlCalls += 1
        let r = ioctlResults.isEmpty ? 0 : ioctlResults.removeFirst()
        if r >= 0 { argument.storeBytes(of: written, as: UInt32.self) }
        return r
    }
    func mmap(length: Int, offset: Int, fd: Int32) -> (address: UnsafeMutableRawPointer?, error: Int32) { (nil, ENODEV) }
    func munmap(_ address: UnsafeMutableRawPointer, length: Int) -> Int32 { 0 }
    func poll(_ fd: Int32, events: Int16, timeoutMilliseconds: Int32) -> (result: Int32, returnedEvents: Int16) { (0, 0) }
    func close(_ fd: Int32) -> Int32 {
        closes.append(fd)
        return 0
    }
}

@Suite("The ioctl wrapper")
struct IOControlTests {
    @Test("EINTR is retried until the call goes through, and the result reaches the argument")
    func retriesEINTR() throws {
        let system = ScriptedSystem(ioctl: [-EINTR, -EINTR, -EINTR, 0])
        system.written = 0xCAFE
        let handle = DeviceHandle(system: system, fd: 3, path: "/dev/video0")
        var value: UInt32 = 0
        try handle.control(.queryCapabilities, &value)
        #expect(system.ioctlCalls == 4)
        #expect(value == 0xCAFE)
    }

    @Test("other errors are not retried and keep their errno, call and path", arguments: [
        (EAGAIN, V4L2Error.Kind.wouldBlock), (ENODEV, .gone), (ENXIO, .gone), (EIO, .gone), (EBUSY, .busy),
        (EINVAL, .invalid), (ENOTTY, .notSupported), (ENOMEM, .other),
    ])
    func typedErrors(code: Int32, kind: V4L2Error.Kind) {
        let system = ScriptedSystem(ioctl: [-code, 0])
        let handle = DeviceHandle(system: system, fd: 3, path: "/dev/video9")
        var value: UInt32 = 0
        #expect(throws: V4L2Error(call: "VIDIOC_DQBUF", path: "/dev/video9", code: code)) {
            try handle.control(.dequeueBuffer, &value)
        }
        #expect(system.ioctlCalls == 1)
        #expect(V4L2Error(call: "x", path: "y", code: code).kind == kind)
    }

    @Test("a call interrupted every time gives up after a bounded number of attempts")
    func boundedRetries() {
        let system = ScriptedSystem(ioctl: Array(repeating: -EINTR, count: 1000))
        let handle = DeviceHandle(system: system, fd: 3, path: "/dev/video0")
        let value: UInt32 = 0
        #expect(controlError(handle, .streamOn, value) != nil)
        #expect(system.ioctlCalls == IOControl.maximumRetries)
    }

    @Test("open retries EINTR and reports other errors")
    func openRetries() throws {
        let system = ScriptedSystem(open: [-EINTR, 7])
        let handle = try DeviceHandle.open("/dev/video0", system: system)
        #expect(handle.fd == 7)
        #expect(system.openCalls == 2)
        let failing = ScriptedSystem(open: [-ENOENT])
        #expect(throws: V4L2Error(call: "open", path: "/dev/video1", code: ENOENT)) {
            try DeviceHandle.open("/dev/video1", system: failing)
        }
    }

    @Test("the error message names the call, the device and the errno")
    func message() {
        let e = V4L2Error(call: "VIDIOC_DQBUF", path: "/dev/video0", code: ENODEV)
        #expect(e.description == "VIDIOC_DQBUF on /dev/video0 failed: ENODEV (No such device)")
    }

    @Test("request codes are the kernel's (sizes from the imported structs)")
    func requestCodes() {
        // _IOWR('V', 17, struct v4l2_buffer): direction 3, size, type 'V', number 17.
        let dqbuf = UInt(3) << 30 | UInt(MemoryLayout<v4l2_buffer>.size) << 16 | UInt(UInt8(ascii: "V")) << 8 | 17
        #expect(V4L2Request.dequeueBuffer.code == dqbuf)
        let querycap = UInt(2) << 30 | UInt(MemoryLayout<v4l2_capability>.size) << 16 | UInt(UInt8(ascii: "V")) << 8 | 0
        #expect(V4L2Request.queryCapabilities.code == querycap)
        #expect(Set(V4L2Request.all.map(\.code)).count == V4L2Request.all.count)
    }

    @Test("fourcc codes match the kernel's macros")
    func fourcc() {
        #expect(FourCC("RGB3") == .rgb24)
        #expect(FourCC("BGR3") == .bgr24)
        #expect(FourCC("YUYV") == .yuyv)
        #expect(FourCC("MJPG") == .mjpeg)
        #expect(FourCC.yuyv.description == "YUYV")
    }
}
