import Capture
import CaptureTesting
import Glibc
import Support
import Testing

@Suite("V4L2 camera session")
struct V4L2CameraTests {
    /// Nothing of a session outlives it.
    func expectNoLeaks(_ system: EmulatedVideoSystem, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(system.openDescriptorCount == 0, "descriptors left open", sourceLocation: sourceLocation)
        #expect(system.mappingCount == 0, "buffers left mapped", sourceLocation: sourceLocation)
        #expect(system.allocatedBufferCount == 0, "buffers left allocated", sourceLocation: sourceLocation)
    }

    @Test("negotiates the nearest size, RGB24 first, and the frame rate")
    func negotiation() throws {
        let system = EmulatedVideoSystem()
        system.plug("/dev/video0", model: .webcam())
        let camera = V4L2Camera(path: "/dev/video0", system: system)
        try camera.start(width: 1000, height: 700, frameRate: 12)
        let f = try #require(camera.format)
        #expect((f.width, f.height, f.fourcc) == (1280, 720, .rgb24))
        #expect(f.frameRate == 10)
        #expect(f.bufferCount == V4L2Camera.requestedBuffers)
        #expect(f.description == "1280×720 RGB24 at 10 fps")
        #expect(system.isStreaming())
        camera.stop()
        #expect(!system.isStreaming())
        expectNoLeaks(system)
    }

    @Test("delivers every frame in order when read fast enough, with the driver's timestamps")
    func order() throws {
        let system = EmulatedVideoSystem()
        system.plug("/dev/video0", model: .single(.rgb24, frameRates: [200]))
        let source = V4L2Source(path: "/dev/video0", system: system)
        try source.open()
        defer { source.close() }
        let (frames, _) = readFrames(source, count: 30)
        #expect(frames.count == 30)
        let sequences = frames.map(\.sourceSequence)
        #expect(sequences == Array(sequences.first!..<(sequences.first! + 30)), "gaps or reordering: \(sequences)")
        let times = frames.map(\.captureTime)
        #expect(times == times.sorted())
        #expect(times.last! <= MonotonicClock.now())
    }

    @Test("the frame content is the driver's buffer, converted", arguments: [FourCC.rgb24, .bgr24])
    func rgbContent(fourcc: FourCC) throws {
        let system = EmulatedVideoSystem()
        system.plug("/dev/video0", model: .single(fourcc, width: 64, height: 48, rowPadding: 16))
        let source = V4L2Source(path: "/dev/video0", system: system)
        try source.open()
        defer { source.close() }
        #expect(source.negotiated?.bytesPerLine == 64 * 3 + 16)
        let buffer = FrameBuffer(source.geometry)
        var got = false
        for _ in 0..<100 where !got {
            if case .frame = source.read(into: buffer.pointer, timeout: 50 * Nanoseconds.millisecond) { got = true }
        }
        #expect(got)
        // Away from the stamped first and last 8 bytes, every pixel is the pattern, in RGB order.
        for (x, y) in [(5, 0), (63, 0), (0, 1), (31, 20), (62, 47)] {
            let p = EmulatedCameraModel.patternRGB(x: x, y: y)
            #expect(buffer.pixel(x, y, width: 64) == (p.r, p.g, p.b), "pixel (\(x), \(y))")
        }
    }

    @Test("a YUYV camera (no libv4l2 conversion) is converted here; mirroring flips rows")
    func yuyvAndMirror() throws {
        let system = EmulatedVideoSystem()
        system.plug("/dev/video0", model: .single(.yuyv, width: 32, height: 8))
        let plain = V4L2Source(path: "/dev/video0", system: system)
        try plain.open()
        let a = FrameBuffer(plain.geometry)
        #expect(readInto(plain, a))
        plain.close()
        let mirrored = V4L2Source(path: "/dev/video0", options: SourceOptions(mirror: true), system: system)
        try mirrored.open()
        let b = FrameBuffer(mirrored.geometry)
        #expect(readInto(mirrored, b))
        mirrored.close()
        for y in 1..<8 {
            for x in 0..<32 { #expect(a.pixel(x, y, width: 32) == b.pixel(31 - x, y, width: 32)) }
        }
        // Pattern luma ramps with x at fixed chroma: compare with the converter on one pixel pair.
        let p0 = EmulatedCameraModel.patternYUYV(x: 4, y: 3), p1 = EmulatedCameraModel.patternYUYV(x: 5, y: 3)
        var raw: [UInt8] = [p0.luma, p0.u, p1.luma, p0.v]
        var rgb = [UInt8](repeating: 0, count: 6)
        convertToRGB(.yuyv, source: &raw, sourceRowBytes: 4, width: 2, height: 1, into: &rgb, mirror: false)
        #expect(a.pixel(4, 3, width: 32) == (rgb[0], rgb[1], rgb[2]))
        #expect(a.pixel(5, 3, width: 32) == (rgb[3], rgb[4], rgb[5]))
        expectNoLeaks(system)
    }

    private func readInto(_ source: V4L2Source, _ buffer: FrameBuffer) -> Bool {
        for _ in 0..<100 {
            if case .frame = source.read(into: buffer.pointer, timeout: 50 * Nanoseconds.millisecond) { return true }
        }
        return false
    }

    @Test("a camera offering only formats capture cannot use is refused with the formats it offers")
    func refusedFormat() throws {
        let system = EmulatedVideoSystem()
        let model = EmulatedCameraModel(formats: [
            .init(.mjpeg, "Motion-JPEG", sizes: [.init(640, 480, frameRates: [30])]),
            .init(.h264, "H.264", sizes: [.init(640, 480, frameRates: [30])]),
        ])
        system.plug("/dev/video0", model: model)
        let camera = V4L2Camera(path: "/dev/video0", system: system)
        #expect {
            try camera.start()
        } throws: { error in
            guard let e = error as? CaptureError, case .device(.formatRefused(_, let detail)) = e else { return false }
            return detail.contains("MJPG, H264") && !e.isBadInput
        }
        expectNoLeaks(system)
    }

    @Test("a path that is not a camera, or missing, is bad input naming the path")
    func notACamera() throws {
        let system = EmulatedVideoSystem()
        system.plug("/dev/video1", model: EmulatedCameraModel(node: .notV4L2, formats: []))
        system.plug("/dev/video2", model: EmulatedCameraModel(node: .metadata, formats: []))
        for (path, expected) in [("/dev/video1", "VIDIOC_QUERYCAP (ENOTTY)"), ("/dev/video2", "metadata node"),
                                 ("/dev/video7", "does not exist")] {
            #expect {
                try V4L2Camera(path: path, system: system).start()
            } throws: { error in
                let e = error as! CaptureError
                return e.isBadInput && e.description.contains(path) && e.description.contains(expected)
            }
        }
        expectNoLeaks(system)
    }

    @Test("a busy camera is a device failure, not bad input")
    func busy() throws {
        let system = EmulatedVideoSystem()
        system.plug("/dev/video0", model: .webcam())
        system.setBusy()
        #expect(throws: CaptureError.device(.busy(source: "camera /dev/video0"))) {
            try V4L2Camera(path: "/dev/video0", system: system).start()
        }
        expectNoLeaks(system)
    }

    @Test("a failure at any step of the setup undoes the steps before it", arguments: [
        EmulatedCall.open, .ioctl(.queryCapabilities), .ioctl(.setFormat), .ioctl(.requestBuffers),
        .ioctl(.queryBuffer), .mmap, .ioctl(.queueBuffer), .ioctl(.streamOn),
    ])
    func cleanupOnFailure(call: EmulatedCall) throws {
        let system = EmulatedVideoSystem()
        system.plug("/dev/video0", model: .webcam())
        // Per-buffer calls fail on the third buffer, so there are mapped buffers to undo.
        let perBuffer = call == .mmap || call == .ioctl(.queryBuffer) || call == .ioctl(.queueBuffer)
        system.inject(ENOMEM, into: call, after: perBuffer ? 2 : 0)
        let camera = V4L2Camera(path: "/dev/video0", system: system)
        #expect(throws: CaptureError.self) { try camera.start() }
        expectNoLeaks(system)
        // The same camera starts cleanly afterwards.
        try camera.start()
        camera.stop()
        expectNoLeaks(system)
    }

    @Test("stop streams off, unmaps and frees every buffer and closes the descriptor, in any state")
    func stopIsComplete() throws {
        let system = EmulatedVideoSystem()
        system.plug("/dev/video0", model: .single(.rgb24))
        let camera = V4L2Camera(path: "/dev/video0", system: system)
        camera.stop()   // never started
        try camera.start()
        #expect(system.mappingCount == V4L2Camera.requestedBuffers)
        camera.stop()
        camera.stop()
        #expect(system.count(of: .streamOff) == 1)
        expectNoLeaks(system)
        // After an unplug mid-stream, stop still releases everything.
        try camera.start()
        system.unplug()
        camera.stop()
        expectNoLeaks(system)
    }

    @Test("a frame flagged corrupt is skipped and its buffer requeued")
    func corruptFrames() throws {
        let system = EmulatedVideoSystem()
        system.plug("/dev/video0", model: .single(.rgb24, frameRates: [200]))
        let camera = V4L2Camera(path: "/dev/video0", system: system)
        try camera.start()
        defer { camera.stop() }
        system.corruptNextFrames(3)
        var delivered: [UInt64] = []
        let deadline = MonotonicClock.now() + 3 * Nanoseconds.second
        while delivered.count < 5 && MonotonicClock.now() < deadline {
            if case .frame(let s) = camera.nextFrame(timeout: 50 * Nanoseconds.millisecond, { _, _ in }) {
                delivered.append(s.sourceSequence)
            }
        }
        #expect(delivered.count == 5)
        #expect(camera.skippedFrames == 3)
        #expect(delivered.first! >= 3)
    }

    @Test("EAGAIN after poll and an interrupted poll are timeouts, not faults")
    func spuriousWakeups() throws {
        let system = EmulatedVideoSystem()
        system.plug("/dev/video0", model: .single(.rgb24, frameRates: [200]))
        let camera = V4L2Camera(path: "/dev/video0", system: system)
        try camera.start()
        defer { camera.stop() }
        system.inject(EINTR, into: .poll)
        #expect(camera.nextFrame(timeout: Nanoseconds.second, { _, _ in }) == .timeout)
        system.inject(EAGAIN, into: .ioctl(.dequeueBuffer))
        #expect(camera.nextFrame(timeout: Nanoseconds.second, { _, _ in }) == .timeout)
        var got = false
        for _ in 0..<50 where !got {
            if case .frame = camera.nextFrame(timeout: 50 * Nanoseconds.millisecond, { _, _ in }) { got = true }
        }
        #expect(got)
    }

    @Test("ENODEV and EIO mid-stream are reported as the camera disconnecting", arguments: [ENODEV, EIO])
    func unplugMidStream(code: Int32) throws {
        let system = EmulatedVideoSystem()
        system.plug("/dev/video0", model: .single(.rgb24, frameRates: [200]))
        let source = V4L2Source(path: "/dev/video0", system: system)
        try source.open()
        #expect(readFrames(source, count: 3).frames.count == 3)
        system.unplug(error: code)
        let (_, last) = readFrames(source, count: 1)
        #expect(last == .fault(.disconnected(source: "camera /dev/video0", code: code)))
        source.close()
        expectNoLeaks(system)
    }

    @Test("a camera that comes back with another size is resampled into the first geometry")
    func geometryKeptAcrossReconnect() throws {
        let system = EmulatedVideoSystem()
        system.plug("/dev/video0", model: .single(.rgb24, width: 64, height: 48))
        let source = V4L2Source(path: "/dev/video0", system: system)
        try source.open()
        #expect(source.geometry == FrameGeometry(width: 64, height: 48))
        source.close()
        system.unplug()
        system.plug("/dev/video0", model: .single(.rgb24, width: 128, height: 96))
        try source.open()
        #expect(source.geometry == FrameGeometry(width: 64, height: 48))
        #expect(source.detail.contains("resampled to 64×48"))
        #expect(readFrames(source, count: 2).frames.count == 2)
        source.close()
        expectNoLeaks(system)
    }
}
