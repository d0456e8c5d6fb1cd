// The one hand-off between a producer thread and a consumer thread where only the newest item
// matters: the capture thread's frames, the inference thread's snapshots, the recorder's frames.

/// Traffic through a `TripleBuffer`.
public struct TripleBufferCounts: Sendable, Equatable {
    /// Items the producer published.
    public var published: UInt64
    /// Items the consumer took.
    public var taken: UInt64
    /// Items replaced by a newer one before the consumer took them.
    public var dropped: UInt64

    public init(published: UInt64 = 0, taken: UInt64 = 0, dropped: UInt64 = 0) {
        self.published = published
        self.taken = taken
        self.dropped = dropped
    }
}

/// Single producer, single consumer, latest wins: three slots made once, passed around by index.
///
/// At any time the producer owns one slot (the one it fills), the consumer owns one (the item it
/// holds), and the third holds the newest published item. `publish` swaps the producer's slot with
/// the newest; `take` swaps the consumer's slot with the newest when that one is unseen. Only the
/// three indices change hands, under a mutex held for a few instructions, so:
/// - the producer never waits for the consumer, and an unseen item replaced by a newer one is
///   counted as dropped;
/// - the consumer never sees a torn item: nobody writes the slot the consumer holds, and the
///   producer's writes to its slot happen before the `publish` that hands it over;
/// - nothing is allocated or copied per item (a slot is usually a pointer to preallocated memory
///   or a reference to an object reused forever).
///
/// A slot's small metadata (a time stamp, a frame number) is set inside `publish`, under the same
/// mutex, so the consumer reads it together with the slot.
public final class TripleBuffer<Slot>: @unchecked Sendable {
    private let monitor = Monitor()
    private let slots: UnsafeMutablePointer<Slot>
    // Slot indices; always a permutation of 0, 1, 2.
    private var producerIndex = 0
    private var readyIndex = 1
    private var consumerIndex = 2
    /// The ready slot holds an item the consumer has not taken.
    private var fresh = false
    private var closed = false
    private var traffic = TripleBufferCounts()

    /// - Parameter make: builds slot 0, 1 and 2 (called three times, here).
    public init(_ make: (Int) -> Slot) {
        slots = .allocate(capacity: 3)
        for i in 0..<3 { (slots + i).initialize(to: make(i)) }
    }

    deinit {
        slots.deinitialize(count: 3)
        slots.deallocate()
    }

    // MARK: - Producer

    /// The slot the producer fills next. It stays the producer's until `publish`.
    public var producerSlot: Slot { monitor.withLock { slots[producerIndex] } }

    /// Makes the producer's slot the newest item and wakes waiting consumers; the producer gets
    /// another slot to fill. Never waits beyond the mutex.
    /// - Parameter finish: sets the slot's metadata, given the item's number (1 for the first item
    ///   published, then +1 per item, dropped ones included). Runs under the mutex: keep it short.
    /// - Returns: the item's number.
    @discardableResult
    public func publish(_ finish: (inout Slot, UInt64) -> Void = { _, _ in }) -> UInt64 {
        monitor.lock()
        traffic.published += 1
        let number = traffic.published
        finish(&slots[producerIndex], number)
        swap(&producerIndex, &readyIndex)
        if fresh { traffic.dropped += 1 }
        fresh = true
        monitor.unlock()
        monitor.broadcast()
        return number
    }

    // MARK: - Consumer

    /// The newest item not taken yet, without waiting; nil when there is none. The item taken
    /// before goes back to the buffer and must not be read any more.
    public func take() -> Slot? {
        monitor.withLock { fresh ? takeFresh() : nil }
    }

    /// The newest item not taken yet, waiting up to `timeout` nanoseconds (nil: until one comes or
    /// the buffer is closed). An item published before `close` is still handed out.
    /// - Returns: nil on timeout, or when the buffer is closed and holds nothing new.
    public func take(waitingUpTo timeout: UInt64?) -> Slot? {
        let deadline = timeout.map { MonotonicClock.now() &+ $0 }
        monitor.lock()
        defer { monitor.unlock() }
        while !fresh && !closed {
            let until = deadline ?? MonotonicClock.now() &+ Nanoseconds.second
            if !monitor.wait(until: until) && deadline != nil && !fresh { return nil }
        }
        return fresh ? takeFresh() : nil
    }

    private func takeFresh() -> Slot {
        swap(&consumerIndex, &readyIndex)
        fresh = false
        traffic.taken += 1
        return slots[consumerIndex]
    }

    /// The slot the consumer holds (the last one taken; before the first `take`, slot 2).
    public var consumerSlot: Slot { monitor.withLock { slots[consumerIndex] } }

    /// Waits up to `timeout` nanoseconds until more than `count` items have been published.
    /// - Returns: the number published so far.
    public func waitForPublish(after count: UInt64, timeout: UInt64) -> UInt64 {
        let deadline = MonotonicClock.now() &+ timeout
        monitor.lock()
        defer { monitor.unlock() }
        while traffic.published <= count && !closed {
            if !monitor.wait(until: deadline) { break }
        }
        return traffic.published
    }

    // MARK: - Both

    /// The traffic so far, read at one instant.
    public var counts: TripleBufferCounts { monitor.withLock { traffic } }

    /// Wakes every waiting consumer for good: once the newest item is taken, waiting `take`s
    /// return nil at once.
    public func close() {
        monitor.withLock { closed = true }
        monitor.broadcast()
    }

    public var isClosed: Bool { monitor.withLock { closed } }
}
