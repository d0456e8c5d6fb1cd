import Capture
import CaptureTesting
import Glibc
import Support
import Testing
import TestSupport

/// The capture thread against every fault the emulated camera can produce.
@Suite("Capture thread faults and recovery")
struct CaptureFaultTests {
    let system = EmulatedVideoSystem()
    let events = EventLog()

    /// A running capture thread on a fast emulated camera (200 fps, 64×48 RGB24).
    func start(model: EmulatedCameraModel = .single(.rgb24, frameRates: [200]),
               policy: CapturePolicy = quickPolicy) throws -> (CaptureThread, FrameMailbox, V4L2Source) {
        system.plug("/dev/video0", model: model)
        let source = V4L2Source(path: "/dev/video0", system: system)
        try source.open()
        let mailbox = FrameMailbox(geometry: source.geometry)
        let capture = CaptureThread(source: source, mailbox: mailbox, policy: policy, onEvent: events.handler)
        capture.start()
        return (capture, mailbox, source)
    }

    func expectNoLeaks(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(system.openDescriptorCount == 0, "descriptors left open", sourceLocation: sourceLocation)
        #expect(system.mappingCount == 0, "buffers left mapped", sourceLocation: sourceLocation)
        #expect(system.allocatedBufferCount == 0, "buffers left allocated", sourceLocation: sourceLocation)
    }

    func framesArrive(_ capture: CaptureThread, _ count: UInt64 = 5) -> Bool {
        let start = capture.counters.frames
        return waitUntil(5) { capture.counters.frames >= start + count }
    }

    @Test("unplugged mid-stream: reported once, no signal shown, reconnected when it returns, nothing leaked",
          arguments: [ENODEV, EIO])
    func unplugAndReturn(code: Int32) throws {
        let (capture, mailbox, _) = try start()
        #expect(framesArrive(capture))
        #expect(mailbox.state == .live)

        system.unplug(error: code)
        #expect(waitUntil(2) { if case .noSignal = mailbox.state { return true } else { return false } })
        // Many reconnect attempts fail while the camera is away; the fault is reported once.
        #expect(waitUntil(3) { capture.counters.reopenAttempts >= 5 })
        #expect(events.faults == [.disconnected(source: "camera /dev/video0", code: code)])
        #expect(system.openDescriptorCount == 0 && system.mappingCount == 0)

        system.plug("/dev/video0")
        #expect(waitUntil(3) { mailbox.state == .live })
        #expect(framesArrive(capture))
        #expect(events.recoveries == 1)
        #expect(capture.counters.faults == 1 && capture.counters.recoveries == 1)
        capture.stop()
        expectNoLeaks()
    }

    @Test("frame numbers never go back and frames keep their order across a reconnect")
    func orderAcrossReconnect() throws {
        let (capture, mailbox, _) = try start()
        var numbers: [UInt64] = [], stamps: [UInt64] = [], torn = 0, mislabeled = 0
        for _ in 0..<2 {
            if numbers.count == 20 {
                system.unplug()
                #expect(waitUntil(2) { if case .noSignal = mailbox.state { return true } else { return false } })
                system.plug("/dev/video0")
            }
            let deadline = MonotonicClock.now() + 5 * Nanoseconds.second
            var got = 0
            while got < 20 && MonotonicClock.now() < deadline {
                if let f = mailbox.acquire(timeout: 50 * Nanoseconds.millisecond) {
                    numbers.append(f.number)
                    stamps.append(stamp(f.pixels))
                    if stamp(f.pixels) != endStamp(f.pixels, count: f.geometry.byteCount) { torn += 1 }
                    if stamp(f.pixels) != f.stamp.sourceSequence { mislabeled += 1 }
                    got += 1
                }
            }
        }
        #expect(torn == 0, "torn frames")
        #expect(mislabeled == 0, "frames whose pixels do not match their sequence number")
        let before = 20
        #expect(stamps.count == 40)
        capture.stop()
        #expect(numbers == numbers.sorted() && Set(numbers).count == numbers.count)
        // Within each streaming session the driver's sequence rises; it restarts after the reconnect.
        let first = Array(stamps.prefix(before)), second = Array(stamps.dropFirst(before))
        #expect(first == first.sorted() && second == second.sorted())
        expectNoLeaks()
    }

    @Test("a stalled stream is reported after the stall timeout, restarted, and recovers")
    func stall() throws {
        let (capture, mailbox, _) = try start()
        #expect(framesArrive(capture))
        system.stall()
        #expect(waitUntil(3) { if case .noSignal(.stalled) = mailbox.state { return true } else { return false } })
        #expect(events.faults.count == 1)
        #expect(events.faults.first?.kind == .stalled)
        // Still stalled after restarts: still reported once.
        #expect(waitUntil(3) { capture.counters.reopenAttempts >= 2 })
        #expect(events.faults.count == 1)
        system.stall(false)
        #expect(waitUntil(3) { mailbox.state == .live })
        #expect(framesArrive(capture))
        capture.stop()
        expectNoLeaks()
    }

    @Test("a camera that comes back busy, then refusing every format, is reported once per kind and recovers")
    func busyThenRefusedThenBack() throws {
        let (capture, mailbox, _) = try start()
        #expect(framesArrive(capture))
        system.unplug()
        #expect(waitUntil(2) { events.faults.count == 1 })
        // It returns, but another program holds it.
        system.plug("/dev/video0")
        system.setBusy()
        #expect(waitUntil(3) { events.faults.count == 2 })
        #expect(events.faults[1] == .busy(source: "camera /dev/video0"))
        // Then it returns offering only a format capture cannot use.
        system.unplug()
        system.plug("/dev/video0", model: EmulatedCameraModel(formats: [.init(.mjpeg, "MJPEG", sizes: [.init(64, 48, frameRates: [200])])]))
        #expect(waitUntil(3) { events.faults.contains { $0.kind == .formatRefused } })
        let reported = events.faults.count
        #expect(waitUntil(3) { capture.counters.reopenAttempts >= 6 })
        #expect(events.faults.count == reported, "a refused format must be reported once, not per attempt")
        if case .noSignal(let f) = mailbox.state { #expect(f.kind == .formatRefused) } else { Issue.record("expected no signal") }
        // Finally the right camera returns.
        system.unplug()
        system.plug("/dev/video0", model: .single(.rgb24, frameRates: [200]))
        #expect(waitUntil(3) { mailbox.state == .live })
        #expect(events.recoveries == 1)
        capture.stop()
        expectNoLeaks()
    }

    @Test("backoff doubles up to its maximum while the camera stays away")
    func backoff() throws {
        let policy = CapturePolicy(stallTimeout: Nanoseconds.second, readTimeout: 20 * Nanoseconds.millisecond,
                                   initialBackoff: 20 * Nanoseconds.millisecond, maximumBackoff: 80 * Nanoseconds.millisecond)
        let (capture, _, _) = try start(policy: policy)
        #expect(framesArrive(capture))
        system.unplug()
        usleep(600_000)
        let attempts = capture.counters.reopenAttempts
        capture.stop()
        // Waits of 20, 40, 80, 80, … ms: about 8 attempts in 0.6 s (not 30, as without backoff).
        #expect(attempts >= 4 && attempts <= 12, "\(attempts) reopen attempts")
        expectNoLeaks()
    }

    @Test("stop while faulted returns promptly and leaves nothing open")
    func stopWhileFaulted() throws {
        let policy = CapturePolicy(stallTimeout: Nanoseconds.second, readTimeout: 20 * Nanoseconds.millisecond,
                                   initialBackoff: 5 * Nanoseconds.second, maximumBackoff: 5 * Nanoseconds.second)
        let (capture, _, _) = try start(policy: policy)
        #expect(framesArrive(capture))
        system.unplug()
        #expect(waitUntil(2) { capture.counters.faults == 1 })
        let t0 = MonotonicClock.now()
        capture.stop()
        #expect(MonotonicClock.now() - t0 < Nanoseconds.second, "stop waited for the backoff")
        expectNoLeaks()
    }

    @Test("stop while streaming streams off, unmaps and closes")
    func stopWhileStreaming() throws {
        let (capture, _, _) = try start()
        #expect(framesArrive(capture))
        #expect(system.isStreaming())
        capture.stop()
        #expect(!system.isStreaming())
        #expect(system.count(of: .streamOff) == 1)
        expectNoLeaks()
    }

    @Test("many unplug cycles leak nothing")
    func manyCycles() throws {
        let (capture, mailbox, _) = try start()
        for _ in 0..<10 {
            #expect(waitUntil(3) { mailbox.state == .live })
            system.unplug()
            #expect(waitUntil(2) { if case .noSignal = mailbox.state { return true } else { return false } })
            #expect(system.openDescriptorCount == 0 && system.mappingCount == 0 && system.allocatedBufferCount == 0)
            system.plug("/dev/video0")
        }
        #expect(waitUntil(3) { mailbox.state == .live })
        capture.stop()
        #expect(events.faults.count == 10 && events.recoveries == 10)
        expectNoLeaks()
    }

    @Test("a slow consumer drops frames; capture keeps its rate")
    func slowConsumer() throws {
        let (capture, mailbox, _) = try start()
        #expect(framesArrive(capture))
        let before = capture.counters.frames
        var consumed = 0
        let t0 = MonotonicClock.now()
        while MonotonicClock.now() - t0 < 400 * Nanoseconds.millisecond {
            if mailbox.acquire(timeout: 50 * Nanoseconds.millisecond) != nil {
                consumed += 1
                usleep(40_000)   // a 40 ms stage against a 5 ms frame interval
            }
        }
        let captured = capture.counters.frames - before
        capture.stop()
        #expect(captured >= 40, "capture slowed down to \(captured) frames in 0.4 s")
        #expect(consumed <= 12)
        #expect(mailbox.statistics.dropped >= captured - UInt64(consumed) - 2)
    }
}
