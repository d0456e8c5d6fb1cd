import Capture
import Glibc
import Support
import Testing

@Suite("Frame mailbox")
struct FrameMailboxTests {
    let geometry = FrameGeometry(width: 16, height: 8)

    func publish(_ mailbox: FrameMailbox, value: UInt8, sequence: UInt64) {
        mailbox.producerBuffer.update(repeating: value, count: geometry.byteCount)
        mailbox.publish(FrameStamp(sourceSequence: sequence, captureTime: MonotonicClock.now()))
    }

    @Test("the latest frame wins; frames replaced before being taken count as dropped")
    func latestWins() {
        let mailbox = FrameMailbox(geometry: geometry)
        #expect(mailbox.tryAcquire() == nil)
        for i in 1...5 { publish(mailbox, value: UInt8(i), sequence: UInt64(i)) }
        let frame = mailbox.tryAcquire()
        #expect(frame?.number == 5)
        #expect(frame?.stamp.sourceSequence == 5)
        #expect(frame?.pixels[0] == 5 && frame?.pixels[geometry.byteCount - 1] == 5)
        #expect(mailbox.tryAcquire() == nil, "a frame is taken once")
        #expect(mailbox.statistics == MailboxCounters(published: 5, consumed: 1, dropped: 4))
    }

    @Test("the frame the consumer holds is never written, however many frames follow")
    func heldFrameUntouched() {
        let mailbox = FrameMailbox(geometry: geometry)
        publish(mailbox, value: 7, sequence: 1)
        let held = mailbox.tryAcquire()!
        for i in 0..<100 { publish(mailbox, value: UInt8(100 + i % 50), sequence: UInt64(2 + i)) }
        #expect(held.buffer.allSatisfy { $0 == 7 })
        #expect(mailbox.tryAcquire()?.pixels[0] == UInt8(100 + 99 % 50))
    }

    @Test("acquire waits for a frame, times out, and returns nil once closed")
    func waiting() {
        let mailbox = FrameMailbox(geometry: geometry)
        let t0 = MonotonicClock.now()
        #expect(mailbox.acquire(timeout: 30 * Nanoseconds.millisecond) == nil)
        #expect(MonotonicClock.now() - t0 >= 25 * Nanoseconds.millisecond)
        let producer = WorkerThread(name: "test-producer") { [mailbox] in
            usleep(20_000)
            mailbox.producerBuffer.update(repeating: 1, count: 16 * 8 * 3)
            mailbox.publish(FrameStamp(sourceSequence: 1, captureTime: 0))
        }
        #expect(mailbox.acquire(timeout: 2 * Nanoseconds.second)?.number == 1)
        producer.join()
        let closer = WorkerThread(name: "test-closer") { [mailbox] in
            usleep(20_000)
            mailbox.close()
        }
        let t1 = MonotonicClock.now()
        #expect(mailbox.acquire(timeout: 5 * Nanoseconds.second) == nil)
        #expect(MonotonicClock.now() - t1 < 2 * Nanoseconds.second)
        closer.join()
    }

    @Test("under a producer and a consumer racing, every frame seen is whole and numbers only rise")
    func noTornFrames() {
        let big = FrameGeometry(width: 320, height: 240)
        let mailbox = FrameMailbox(geometry: big)
        let total: UInt64 = 3000
        let producer = WorkerThread(name: "test-producer") { [mailbox] in
            for i in 1...total {
                // Every byte of frame i is i mod 251, written byte by byte (slowly, to invite races).
                let value = UInt8(i % 251)
                let p = mailbox.producerBuffer
                for k in 0..<big.byteCount { p[k] = value }
                mailbox.publish(FrameStamp(sourceSequence: i, captureTime: 0))
            }
            mailbox.close()
        }
        var seen = 0, torn = 0
        var last: UInt64 = 0
        while let frame = mailbox.acquire(timeout: 5 * Nanoseconds.second) {
            let expected = UInt8(frame.stamp.sourceSequence % 251)
            if !frame.buffer.allSatisfy({ $0 == expected }) { torn += 1 }
            if frame.number <= last { torn += 1 }
            last = frame.number
            seen += 1
        }
        producer.join()
        #expect(torn == 0)
        #expect(seen > 1)
        let s = mailbox.statistics
        #expect(s.published == total && s.consumed == UInt64(seen))
        #expect(s.dropped + s.consumed == total || s.dropped + s.consumed == total - 1)
    }

    @Test("the state is visible to the consumer, and a state change wakes a waiter")
    func state() {
        let mailbox = FrameMailbox(geometry: geometry)
        #expect(mailbox.state == .starting)
        let (_, version) = mailbox.waitForStateChange(after: 0, timeout: 0)
        let fault = CaptureFault.disconnected(source: "camera /dev/video0", code: ENODEV)
        let setter = WorkerThread(name: "test-state") { [mailbox] in
            usleep(10_000)
            mailbox.setState(.noSignal(fault))
        }
        let (state, newVersion) = mailbox.waitForStateChange(after: version, timeout: 2 * Nanoseconds.second)
        setter.join()
        #expect(state == .noSignal(fault))
        #expect(newVersion == version + 1)
    }
}
