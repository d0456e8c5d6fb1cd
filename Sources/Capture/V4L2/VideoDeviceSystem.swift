// The narrow seam between V4L2 capture and the operating system: the six calls capture makes.
// `LibV4L2System` passes them to libv4l2 (which converts MJPEG and YUV cameras to RGB24);
// `EmulatedVideoSystem` implements them in memory after the kernel's documented behaviour.

#if canImport(Glibc)
import Glibc
#endif
import CV4L2

/// open / ioctl / mmap / munmap / poll / close on video devices.
///
/// Every call returns its result or a negative errno (the kernel's own convention), so no caller
/// depends on the thread-local `errno` surviving between calls.
public protocol VideoDeviceSystem: AnyObject, Sendable {
    /// The device nodes that may be cameras (`/dev/video*`), in natural order (video2 before video10).
    func deviceNodes() -> [String]
    /// Opens a device node; a descriptor ≥ 0 or −errno.
    func open(_ path: String, flags: Int32) -> Int32
    /// One ioctl with a pointer argument; ≥ 0 or −errno.
    func ioctl(_ fd: Int32, _ request: UInt, _ argument: UnsafeMutableRawPointer) -> Int32
    /// Maps `length` bytes of a device buffer at `offset` (the cookie VIDIOC_QUERYBUF gave) for
    /// reading and writing, shared.
    func mmap(length: Int, offset: Int, fd: Int32) -> (address: UnsafeMutableRawPointer?, error: Int32)
    /// Unmaps a mapping made by `mmap`; 0 or −errno.
    func munmap(_ address: UnsafeMutableRawPointer, length: Int) -> Int32
    /// Waits up to `timeoutMilliseconds` for `events` on `fd`: the number of ready descriptors (0 on
    /// timeout) with the returned events, or −errno.
    func poll(_ fd: Int32, events: Int16, timeoutMilliseconds: Int32) -> (result: Int32, returnedEvents: Int16)
    /// Closes a descriptor; 0 or −errno.
    func close(_ fd: Int32) -> Int32
}

/// The real system, through libv4l2.
public final class LibV4L2System: VideoDeviceSystem {
    public init() {}

    public func deviceNodes() -> [String] {
        guard let dir = opendir("/dev") else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasPrefix("video"), name.count > 5, name.dropFirst(5).allSatisfy(\.isNumber) {
                names.append(name)
            }
        }
        return sortDeviceNodes(names.map { "/dev/" + $0 })
    }

    public func open(_ path: String, flags: Int32) -> Int32 {
        let fd = ds_v4l2_open(path, flags | O_CLOEXEC)
        return fd >= 0 ? fd : -errno
    }

    public func ioctl(_ fd: Int32, _ request: UInt, _ argument: UnsafeMutableRawPointer) -> Int32 {
        let r = ds_v4l2_ioctl(fd, request, argument)
        return r >= 0 ? r : -errno
    }

    public func mmap(length: Int, offset: Int, fd: Int32) -> (address: UnsafeMutableRawPointer?, error: Int32) {
        let p = v4l2_mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, Int64(offset))
        if p == nil || Int(bitPattern: p) == -1 { return (nil, errno) }
        return (p, 0)
    }

    public func munmap(_ address: UnsafeMutableRawPointer, length: Int) -> Int32 {
        v4l2_munmap(address, length) == 0 ? 0 : -errno
    }

    public func poll(_ fd: Int32, events: Int16, timeoutMilliseconds: Int32) -> (result: Int32, returnedEvents: Int16) {
        var entry = pollfd(fd: fd, events: events, revents: 0)
        let r = Glibc.poll(&entry, 1, timeoutMilliseconds)
        return r >= 0 ? (r, entry.revents) : (-errno, 0)
    }

    public func close(_ fd: Int32) -> Int32 {
        v4l2_close(fd) == 0 ? 0 : -errno
    }
}

/// Sorts device paths so that numbered suffixes compare as numbers (video2 < video10).
public func sortDeviceNodes(_ paths: [String]) -> [String] {
    func key(_ path: String) -> (String, Int) {
        let digits = path.reversed().prefix { $0.isNumber }
        let stem = String(path.dropLast(digits.count))
        return (stem, Int(String(digits.reversed())) ?? -1)
    }
    return paths.sorted { key($0) < key($1) }
}
