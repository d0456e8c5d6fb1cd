// The hand-off from the capture thread to its consumer: three frame slots, latest frame wins.

import Support

/// A frame the consumer holds: its pixels stay untouched until the consumer's next `acquire`.
public struct MailboxFrame: @unchecked Sendable {
    /// `geometry.byteCount` bytes of packed RGB.
    public let pixels: UnsafePointer<UInt8>
    public let geometry: FrameGeometry
    /// 1 for the first frame published, then +1 per frame published (dropped ones included), so a
    /// gap tells the consumer how many frames it missed.
    public let number: UInt64
    public let stamp: FrameStamp

    public var buffer: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: pixels, count: geometry.byteCount) }
}

/// What a source is doing, as the consumer sees it.
public enum SourceState: Sendable, Equatable {
    /// Opening for the first time.
    case starting
    /// Frames are flowing.
    case live
    /// The source faulted; capture is reconnecting. Consumers show "no signal".
    case noSignal(CaptureFault)
    /// The source has no more frames.
    case ended
}

/// Counts of a mailbox's traffic.
public struct MailboxCounters: Sendable, Equatable {
    /// Frames the producer published.
    public var published: UInt64
    /// Frames the consumer acquired.
    public var consumed: UInt64
    /// Frames replaced by a newer one before the consumer took them.
    public var dropped: UInt64

    public init(published: UInt64, consumed: UInt64, dropped: UInt64) {
        self.published = published
        self.consumed = consumed
        self.dropped = dropped
    }
}

/// Single producer, single consumer, latest frame wins: a `TripleBuffer` of frame slots.
///
/// Three slots of one frame each, allocated once. At any time the producer owns one slot (the one
/// it writes), the consumer owns one (the frame it holds), and the third holds the newest
/// published frame, so:
/// - the producer never waits for the consumer (capture never stalls on a slow stage), and an
///   unseen frame replaced by a newer one is counted as dropped;
/// - the consumer never sees a torn frame: nobody writes a slot the consumer holds;
/// - nothing is allocated or copied per frame.
public final class FrameMailbox: @unchecked Sendable {
    public let geometry: FrameGeometry

    /// One frame's memory and what the producer said about it.
    private struct Slot {
        let pixels: UnsafeMutablePointer<UInt8>
        var stamp = FrameStamp(sourceSequence: 0, captureTime: 0)
        var number: UInt64 = 0
    }

    private let frames: TripleBuffer<Slot>
    private let storage: UnsafeMutableRawPointer
    /// Guards the source state (frames have their own lock in `frames`).
    private let monitor = Monitor()
    private var closed = false
    private var sourceState: SourceState = .starting
    private var stateVersion: UInt64 = 0

    /// - Parameter geometry: the size of every frame that passes through.
    public init(geometry: FrameGeometry) {
        self.geometry = geometry
        // Round each slot to 64 bytes so slots never share a cache line.
        let slotBytes = (geometry.byteCount + 63) & ~63
        let storage = UnsafeMutableRawPointer.allocate(byteCount: slotBytes * 3, alignment: 64)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: slotBytes * 3)
        self.storage = storage
        frames = TripleBuffer { index in
            Slot(pixels: (storage + index * slotBytes).assumingMemoryBound(to: UInt8.self))
        }
    }

    deinit { storage.deallocate() }

    // MARK: - Producer

    /// The slot the producer writes the next frame into (`geometry.byteCount` bytes). It stays the
    /// producer's until `publish`, after which this property names a different slot.
    public var producerBuffer: UnsafeMutablePointer<UInt8> { frames.producerSlot.pixels }

    /// Makes the frame in `producerBuffer` the newest and wakes a waiting consumer.
    /// - Returns: the frame's number.
    @discardableResult
    public func publish(_ stamp: FrameStamp) -> UInt64 {
        frames.publish { slot, number in
            slot.stamp = stamp
            slot.number = number
        }
    }

    /// Sets the state consumers see (no signal, live, …) and wakes a waiting consumer.
    public func setState(_ state: SourceState) {
        monitor.lock()
        if sourceState != state {
            sourceState = state
            stateVersion += 1
        }
        monitor.unlock()
        monitor.broadcast()
    }

    // MARK: - Consumer

    /// Takes the newest frame not taken yet, waiting up to `timeout` nanoseconds for one.
    ///
    /// The frame returned before (if any) goes back to the mailbox and must not be read any more.
    /// - Returns: nil on timeout or once the mailbox is closed.
    public func acquire(timeout: UInt64) -> MailboxFrame? {
        guard let slot = frames.take(waitingUpTo: timeout) else { return nil }
        return frame(slot)
    }

    /// The newest frame not taken yet, without waiting; nil when there is none.
    public func tryAcquire() -> MailboxFrame? {
        guard let slot = frames.take() else { return nil }
        return frame(slot)
    }

    private func frame(_ slot: Slot) -> MailboxFrame {
        MailboxFrame(pixels: UnsafePointer(slot.pixels), geometry: geometry, number: slot.number, stamp: slot.stamp)
    }

    /// Waits until the state's version differs from `version` or `timeout` passes; returns the
    /// current state and version. Lets a consumer with no frames (no signal) notice changes.
    public func waitForStateChange(after version: UInt64, timeout: UInt64) -> (SourceState, UInt64) {
        let deadline = MonotonicClock.now() &+ timeout
        monitor.lock()
        defer { monitor.unlock() }
        while stateVersion == version && !closed {
            if !monitor.wait(until: deadline) { break }
        }
        return (sourceState, stateVersion)
    }

    /// The state the producer last set.
    public var state: SourceState { monitor.withLock { sourceState } }

    /// The traffic so far.
    public var statistics: MailboxCounters {
        let c = frames.counts
        return MailboxCounters(published: c.published, consumed: c.taken, dropped: c.dropped)
    }

    /// Wakes the consumer for good: `acquire` returns nil from now on.
    public func close() {
        frames.close()
        monitor.withLock { closed = true }
        monitor.broadcast()
    }

    public var isClosed: Bool { frames.isClosed }
}
