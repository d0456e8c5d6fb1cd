// The hand-off from the capture thread to its consumer: three frame slots, latest frame wins.

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

/// Single producer, single consumer, latest frame wins: a triple buffer.
///
/// Three slots of one frame each, allocated once. At any time the producer owns one slot (the one
/// it writes), the consumer owns one (the frame it holds), and the third holds the newest
/// published frame. `publish` swaps the producer's slot with the newest; `acquire` swaps the
/// consumer's slot with the newest if it is unseen. The swaps exchange indices under a mutex held
/// for a few instructions, so:
/// - the producer never waits for the consumer (capture never stalls on a slow stage), and an
///   unseen frame replaced by a newer one is counted as dropped;
/// - the consumer never sees a torn frame: nobody writes a slot the consumer holds;
/// - nothing is allocated or copied per frame.
public final class FrameMailbox: @unchecked Sendable {
    public let geometry: FrameGeometry

    private let monitor = Monitor()
    private let storage: UnsafeMutableRawPointer
    private let slotBytes: Int
    private var stamps: (FrameStamp, FrameStamp, FrameStamp)
    private var numbers: (UInt64, UInt64, UInt64) = (0, 0, 0)
    // Slot indices; always a permutation of 0, 1, 2.
    private var back = 0
    private var middle = 1
    private var front = 2
    /// The middle slot holds a frame the consumer has not taken.
    private var fresh = false
    private var closed = false
    private var counters = MailboxCounters(published: 0, consumed: 0, dropped: 0)
    private var sourceState: SourceState = .starting
    private var stateVersion: UInt64 = 0

    /// - Parameter geometry: the size of every frame that passes through.
    public init(geometry: FrameGeometry) {
        self.geometry = geometry
        // Round each slot to 64 bytes so slots never share a cache line.
        slotBytes = (geometry.byteCount + 63) & ~63
        storage = .allocate(byteCount: slotBytes * 3, alignment: 64)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: slotBytes * 3)
        let zero = FrameStamp(sourceSequence: 0, captureTime: 0)
        stamps = (zero, zero, zero)
    }

    deinit { storage.deallocate() }

    private func slot(_ index: Int) -> UnsafeMutablePointer<UInt8> {
        (storage + index * slotBytes).assumingMemoryBound(to: UInt8.self)
    }

    // MARK: - Producer

    /// The slot the producer writes the next frame into (`geometry.byteCount` bytes). It stays the
    /// producer's until `publish`, after which this property names a different slot.
    public var producerBuffer: UnsafeMutablePointer<UInt8> {
        monitor.withLock { slot(back) }
    }

    /// Makes the frame in `producerBuffer` the newest and wakes a waiting consumer.
    /// - Returns: the frame's number.
    @discardableResult
    public func publish(_ stamp: FrameStamp) -> UInt64 {
        monitor.lock()
        counters.published += 1
        let number = counters.published
        setStamp(back, stamp, number)
        swap(&back, &middle)
        if fresh { counters.dropped += 1 }
        fresh = true
        monitor.unlock()
        monitor.signal()
        return number
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
        let deadline = MonotonicClock.now() &+ timeout
        monitor.lock()
        defer { monitor.unlock() }
        while !fresh && !closed {
            if !monitor.wait(until: deadline) && !fresh { return nil }
        }
        guard fresh else { return nil }
        return takeFresh()
    }

    /// The newest frame not taken yet, without waiting; nil when there is none.
    public func tryAcquire() -> MailboxFrame? {
        monitor.withLock { fresh ? takeFresh() : nil }
    }

    private func takeFresh() -> MailboxFrame {
        swap(&front, &middle)
        fresh = false
        counters.consumed += 1
        return MailboxFrame(pixels: UnsafePointer(slot(front)), geometry: geometry,
                            number: number(front), stamp: stamp(front))
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
    public var statistics: MailboxCounters { monitor.withLock { counters } }

    /// Wakes the consumer for good: `acquire` returns nil from now on.
    public func close() {
        monitor.withLock { closed = true }
        monitor.broadcast()
    }

    public var isClosed: Bool { monitor.withLock { closed } }

    // MARK: - Slot metadata (tuples, so that nothing is allocated)

    private func setStamp(_ index: Int, _ stamp: FrameStamp, _ number: UInt64) {
        switch index {
        case 0: stamps.0 = stamp; numbers.0 = number
        case 1: stamps.1 = stamp; numbers.1 = number
        default: stamps.2 = stamp; numbers.2 = number
        }
    }

    private func stamp(_ index: Int) -> FrameStamp {
        switch index {
        case 0: return stamps.0
        case 1: return stamps.1
        default: return stamps.2
        }
    }

    private func number(_ index: Int) -> UInt64 {
        switch index {
        case 0: return numbers.0
        case 1: return numbers.1
        default: return numbers.2
        }
    }
}
