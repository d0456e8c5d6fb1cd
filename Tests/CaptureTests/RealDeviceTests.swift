import Capture
import Foundation
import Glibc
import Testing

/// The real V4L2 devices of this machine, if any.
let realCameras: [String] = LibV4L2System().deviceNodes()

/// The same checks as against the emulated device, on real hardware through libv4l2. Skipped, with the
/// reason, on machines without a /dev/video* node.
@Suite("Real V4L2 devices", .enabled(if: !realCameras.isEmpty, "no /dev/video* device on this machine"))
struct RealDeviceTests {
    @Test("every capture node is listed with formats and sizes")
    func listing() {
        let cameras = CameraProbe.cameras(system: LibV4L2System())
        for camera in cameras where camera.error == nil {
            #expect(!camera.formats.isEmpty, "\(camera.path) lists no formats")
            #expect(camera.formats.allSatisfy { !$0.sizes.isEmpty })
        }
    }

    @Test("the first camera streams frames in order and stops cleanly")
    func streams() throws {
        let system = LibV4L2System()
        guard let path = CameraProbe.firstCamera(system: system) else { return }
        let before = openDescriptorCount()
        let source = V4L2Source(path: path, system: system)
        do {
            try source.open()
        } catch {
            if case .device(.busy) = error { return }   // another program has it
            throw error
        }
        let (frames, last) = readFrames(source, count: 10, seconds: 10)
        source.close()
        #expect(frames.count == 10, "last read: \(String(describing: last))")
        let sequences = frames.map(\.sourceSequence)
        #expect(sequences == sequences.sorted())
        #expect(openDescriptorCount() <= before)
    }
}

/// libv4l2 itself, where no camera is needed.
@Suite("libv4l2 without a camera", .serialized)
struct LibV4L2Tests {
    @Test("a device node that does not exist is bad input")
    func missing() {
        #expect(throws: CaptureError.notFound(what: "camera", path: "/dev/video-missing-77")) {
            try V4L2Camera(path: "/dev/video-missing-77", system: LibV4L2System()).start()
        }
    }

    @Test("a file that is not a camera is refused, and its descriptor is closed", arguments: ["/dev/null", "/proc/self/stat"])
    func notACamera(path: String) throws {
        let before = openDescriptorCount()
        for _ in 0..<30 {
            #expect {
                try V4L2Camera(path: path, system: LibV4L2System()).start()
            } throws: { error in
                guard let e = error as? CaptureError, case .notACamera(let p, let reason) = e else { return false }
                return p == path && reason.contains("VIDIOC_QUERYCAP") && e.isBadInput
            }
        }
        // A leak would leave 30 more descriptors; other suites running in parallel may hold a few.
        #expect(openDescriptorCount() - before < 15)
    }

    @Test("the device scan finds /dev/video* nodes only, in natural order")
    func scan() {
        let nodes = LibV4L2System().deviceNodes()
        #expect(nodes.allSatisfy { $0.hasPrefix("/dev/video") })
        #expect(CameraProbe.cameras(system: LibV4L2System()).count <= nodes.count)
    }
}
