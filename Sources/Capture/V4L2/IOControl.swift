// The one place V4L2 ioctls are issued: EINTR is retried, every failure becomes a typed error.

#if canImport(Glibc)
import Glibc
#endif
import CV4L2
import Support

/// A V4L2 ioctl request: its code and its name for messages.
public struct V4L2Request: Sendable, Equatable, CustomStringConvertible {
    public let code: UInt
    public let name: String

    public init(code: UInt, name: String) {
        self.code = code
        self.name = name
    }

    public var description: String { name }

    public static let queryCapabilities = V4L2Request(code: UInt(ds_vidioc_querycap()), name: "VIDIOC_QUERYCAP")
    public static let enumerateFormats = V4L2Request(code: UInt(ds_vidioc_enum_fmt()), name: "VIDIOC_ENUM_FMT")
    public static let getFormat = V4L2Request(code: UInt(ds_vidioc_g_fmt()), name: "VIDIOC_G_FMT")
    public static let setFormat = V4L2Request(code: UInt(ds_vidioc_s_fmt()), name: "VIDIOC_S_FMT")
    public static let tryFormat = V4L2Request(code: UInt(ds_vidioc_try_fmt()), name: "VIDIOC_TRY_FMT")
    public static let requestBuffers = V4L2Request(code: UInt(ds_vidioc_reqbufs()), name: "VIDIOC_REQBUFS")
    public static let queryBuffer = V4L2Request(code: UInt(ds_vidioc_querybuf()), name: "VIDIOC_QUERYBUF")
    public static let queueBuffer = V4L2Request(code: UInt(ds_vidioc_qbuf()), name: "VIDIOC_QBUF")
    public static let dequeueBuffer = V4L2Request(code: UInt(ds_vidioc_dqbuf()), name: "VIDIOC_DQBUF")
    public static let streamOn = V4L2Request(code: UInt(ds_vidioc_streamon()), name: "VIDIOC_STREAMON")
    public static let streamOff = V4L2Request(code: UInt(ds_vidioc_streamoff()), name: "VIDIOC_STREAMOFF")
    public static let getParameters = V4L2Request(code: UInt(ds_vidioc_g_parm()), name: "VIDIOC_G_PARM")
    public static let setParameters = V4L2Request(code: UInt(ds_vidioc_s_parm()), name: "VIDIOC_S_PARM")
    public static let enumerateFrameSizes = V4L2Request(code: UInt(ds_vidioc_enum_framesizes()), name: "VIDIOC_ENUM_FRAMESIZES")
    public static let enumerateFrameIntervals = V4L2Request(code: UInt(ds_vidioc_enum_frameintervals()),
                                                            name: "VIDIOC_ENUM_FRAMEINTERVALS")

    /// Every request capture issues, for naming a code in messages and for the emulated device.
    public static let all: [V4L2Request] = [
        .queryCapabilities, .enumerateFormats, .getFormat, .setFormat, .tryFormat, .requestBuffers,
        .queryBuffer, .queueBuffer, .dequeueBuffer, .streamOn, .streamOff, .getParameters,
        .setParameters, .enumerateFrameSizes, .enumerateFrameIntervals,
    ]
}

/// A failed V4L2 call: which call, on which device, with which errno.
public struct V4L2Error: Error, Sendable, Equatable, CustomStringConvertible {
    /// What the errno means for capture.
    public enum Kind: Sendable, Equatable {
        /// EAGAIN on a non-blocking descriptor: nothing is ready yet.
        case wouldBlock
        /// The device is gone: ENODEV, ENXIO (unplugged) or EIO (a hardware error, usually the same).
        case gone
        /// EBUSY: another descriptor or program owns the device's buffers.
        case busy
        /// EINVAL: the driver rejects the argument (an unsupported format, a bad buffer index, …).
        case invalid
        /// ENOTTY: the descriptor is not a V4L2 device or does not know this request.
        case notSupported
        /// EINTR kept coming back after `IOControl.maximumRetries` attempts.
        case interrupted
        /// Anything else.
        case other
    }

    /// The call: an ioctl name, "open", "mmap", "poll", …
    public var call: String
    public var path: String
    public var code: Int32

    public init(call: String, path: String, code: Int32) {
        self.call = call
        self.path = path
        self.code = code
    }

    public var kind: Kind {
        switch code {
        case EAGAIN: return .wouldBlock
        case ENODEV, ENXIO, EIO: return .gone
        case EBUSY: return .busy
        case EINVAL: return .invalid
        case ENOTTY: return .notSupported
        case EINTR: return .interrupted
        default: return .other
        }
    }

    /// "VIDIOC_DQBUF on /dev/video0 failed: ENODEV (No such device)".
    public var description: String {
        "\(call) on \(path) failed: \(errnoName(code)) (\(errnoMessage(code)))"
    }
}

/// An open video device descriptor and the system it came from. Every call goes through here.
public struct DeviceHandle: Sendable {
    public let system: any VideoDeviceSystem
    public let fd: Int32
    public let path: String

    public init(system: any VideoDeviceSystem, fd: Int32, path: String) {
        self.system = system
        self.fd = fd
        self.path = path
    }

    /// Opens `path`, retrying EINTR.
    public static func open(_ path: String, system: any VideoDeviceSystem,
                            flags: Int32 = O_RDWR | O_NONBLOCK) throws(V4L2Error) -> DeviceHandle {
        var attempts = 0
        while true {
            let fd = system.open(path, flags: flags)
            if fd >= 0 { return DeviceHandle(system: system, fd: fd, path: path) }
            attempts += 1
            if fd != -EINTR || attempts >= IOControl.maximumRetries {
                throw V4L2Error(call: "open", path: path, code: -fd)
            }
        }
    }

    /// Issues `request` with `argument`, retrying while it fails with EINTR.
    /// - Throws: `V4L2Error` with the request's name and the errno (EAGAIN included: callers that
    ///   expect it check `kind == .wouldBlock`). Throwing allocates nothing.
    @inline(__always)
    public func control<Argument>(_ request: V4L2Request, _ argument: inout Argument) throws(V4L2Error) {
        let r = withUnsafeMutableBytes(of: &argument) { raw in
            IOControl.retrying { system.ioctl(fd, request.code, raw.baseAddress!) }
        }
        if r < 0 { throw V4L2Error(call: request.name, path: path, code: -r) }
    }

    /// Walks an enumerating request (VIDIOC_ENUM_FMT, VIDIOC_ENUM_FRAMESIZES,
    /// VIDIOC_ENUM_FRAMEINTERVALS): index 0, 1, … until the driver answers EINVAL, which ends its
    /// list, or until `limit` entries, or until `take` returns false (a stepwise range is the
    /// only entry of its list).
    /// - Parameters:
    ///   - make: the request's argument for an index.
    ///   - take: reads one answered entry; false stops the walk.
    /// - Throws: any error but EINVAL, after `take` has seen the entries before it.
    public func enumerate<Entry>(_ request: V4L2Request, limit: UInt32, make: (UInt32) -> Entry,
                                 take: (Entry) -> Bool) throws(V4L2Error) {
        var index: UInt32 = 0
        while index < limit {
            var entry = make(index)
            do {
                try control(request, &entry)
            } catch {
                if error.kind == .invalid { return }
                throw error
            }
            guard take(entry) else { return }
            index += 1
        }
    }

    /// Closes the descriptor. EINTR is not retried: on Linux the descriptor is released even then,
    /// and a second close could close a descriptor another thread just opened.
    public func close() {
        _ = system.close(fd)
    }
}

/// The retry rule shared by every call.
public enum IOControl {
    /// Attempts before EINTR is given up on (a signal storm, or a broken device emulation).
    public static let maximumRetries = 100

    /// Calls `body` until it returns anything but −EINTR, at most `maximumRetries` times.
    /// - Returns: the last result (≥ 0, or −errno; −EINTR only if every attempt was interrupted).
    @inline(__always)
    public static func retrying(_ body: () -> Int32) -> Int32 {
        var result: Int32 = -EINTR
        var attempts = 0
        while attempts < maximumRetries {
            result = body()
            if result != -EINTR { return result }
            attempts += 1
        }
        return result
    }
}
