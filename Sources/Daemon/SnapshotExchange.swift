// The typed channels between the inference thread and the window: snapshots one way, requests
// the other. Neither side ever waits for the other beyond a few instructions under a mutex.

import Capture
import Visualization

/// Three `VisualSnapshot`s passed between one producer (the inference thread) and one consumer
/// (the UI thread), latest wins: the producer fills `back`, `publish` swaps it with the ready slot;
/// `take` swaps the consumer's `front` with the ready slot when it holds something new. Nothing is
/// copied or allocated per frame; a snapshot the UI did not take in time is replaced (dropped).
public final class SnapshotExchange: @unchecked Sendable {
    private let monitor = Monitor()
    private var slots: [VisualSnapshot]
    private var backIndex = 0
    private var readyIndex = 1
    private var frontIndex = 2
    private var fresh = false
    private var published: UInt64 = 0
    private var taken: UInt64 = 0
    /// Called (on the producer's thread) after each publish, e.g. to wake the window.
    public var onPublish: (@Sendable () -> Void)?

    public init() {
        slots = [VisualSnapshot(), VisualSnapshot(), VisualSnapshot()]
    }

    /// The snapshot the producer may fill. Valid until its next `publish`.
    public var back: VisualSnapshot { monitor.withLock { slots[backIndex] } }

    /// Hands the filled `back` over; the producer gets another slot to fill.
    public func publish() {
        monitor.withLock {
            swap(&backIndex, &readyIndex)
            fresh = true
            published += 1
        }
        monitor.broadcast()
        onPublish?()
    }

    /// The newest published snapshot if it was not taken yet, else nil. The one returned before
    /// goes back to the exchange: it must not be read any more.
    public func take() -> VisualSnapshot? {
        monitor.withLock {
            guard fresh else { return nil }
            swap(&frontIndex, &readyIndex)
            fresh = false
            taken += 1
            return slots[frontIndex]
        }
    }

    /// The snapshot the consumer holds (the last one taken; empty before the first).
    public var front: VisualSnapshot { monitor.withLock { slots[frontIndex] } }

    /// Waits up to `timeout` nanoseconds for a snapshot to be published (for tests and tools
    /// without a window).
    public func waitForPublish(after count: UInt64, timeout: UInt64) -> UInt64 {
        let deadline = MonotonicClock.now() &+ timeout
        monitor.lock()
        defer { monitor.unlock() }
        while published <= count {
            if !monitor.wait(until: deadline) { break }
        }
        return published
    }

    /// Snapshots published and taken so far.
    public var counts: (published: UInt64, taken: UInt64) { monitor.withLock { (published, taken) } }
}

/// The window's newest `LiveRequest`, read by the inference thread: latest wins, with a version
/// so the reader knows when something changed and can wait for a change while the frame is frozen.
public final class RequestChannel: @unchecked Sendable {
    private let monitor = Monitor()
    private var request: LiveRequest
    private var version: UInt64 = 0

    public init(_ initial: LiveRequest) { request = initial }

    /// Replaces the request (no-op when equal).
    public func send(_ r: LiveRequest) {
        let changed: Bool = monitor.withLock {
            guard r != request else { return false }
            request = r
            version += 1
            return true
        }
        if changed { monitor.broadcast() }
    }

    /// The current request and its version.
    public var current: (request: LiveRequest, version: UInt64) { monitor.withLock { (request, version) } }

    /// Waits up to `timeout` nanoseconds for a version after `seen`; returns the current one.
    public func wait(after seen: UInt64, timeout: UInt64) -> (request: LiveRequest, version: UInt64) {
        let deadline = MonotonicClock.now() &+ timeout
        monitor.lock()
        defer { monitor.unlock() }
        while version == seen {
            if !monitor.wait(until: deadline) { break }
        }
        return (request, version)
    }
}
