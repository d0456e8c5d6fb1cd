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
import Capture
import CV4L2
import Support

/// A system call of the seam, for `EmulatedVideoSystem.inject`.
public enum EmulatedCall: Sendable, Equatable {
    case open
    case ioctl(V4L2Request)
    case mmap
    case poll
}

public final class EmulatedVideoSystem: VideoDeviceSystem, @unchecked Sendable {
    // MARK: - State (all guarded by `monitor`)

    final class Buffer {
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

    final class Device {
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

    struct Descriptor {
        let device: Device
        let nonBlocking: Bool
    }

    struct Injection {
        var call: EmulatedCall
        var code: Int32
        var skip: Int
        var remaining: Int
    }

    let monitor = Monitor()
    var devices: [String: Device] = [:]
    var descriptors: [Int32: Descriptor] = [:]
    var mappings: [UnsafeMutableRawPointer: Buffer] = [:]
    var orphans: [Buffer] = []
    var nextDescriptor: Int32 = 1000
    var injections: [Injection] = []
    var requestCounts = [Int](repeating: 0, count: V4L2Request.all.count)
    var liveBuffers = 0

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

    var lastModels: [String: EmulatedCameraModel] = [:]

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
}
