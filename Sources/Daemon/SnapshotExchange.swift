// The typed channels between the inference thread and the window: snapshots one way, requests
// the other. Neither side ever waits for the other beyond a few instructions under a mutex.

import Support
import Visualization

/// Three `VisualSnapshot`s passed between one producer (the inference thread) and one consumer
/// (the UI thread) through a `TripleBuffer`, latest wins: the producer fills `back`, `publish`
/// hands it over; `take` gives the consumer the newest one when it holds something new. Nothing is
/// copied or allocated per frame; a snapshot the UI did not take in time is replaced (dropped).
public final class SnapshotExchange: @unchecked Sendable {
    private let snapshots = TripleBuffer { _ in VisualSnapshot() }
    /// Called (on the producer's thread) after each publish, e.g. to wake the window.
    public var onPublish: (@Sendable () -> Void)?

    public init() {}

    /// The snapshot the producer may fill. Valid until its next `publish`.
    public var back: VisualSnapshot { snapshots.producerSlot }

    /// Hands the filled `back` over; the producer gets another slot to fill.
    public func publish() {
        snapshots.publish()
        onPublish?()
    }

    /// The newest published snapshot if it was not taken yet, else nil. The one returned before
    /// goes back to the exchange: it must not be read any more.
    public func take() -> VisualSnapshot? { snapshots.take() }

    /// The snapshot the consumer holds (the last one taken; empty before the first).
    public var front: VisualSnapshot { snapshots.consumerSlot }

    /// Waits up to `timeout` nanoseconds for a snapshot to be published (for tests and tools
    /// without a window).
    public func waitForPublish(after count: UInt64, timeout: UInt64) -> UInt64 {
        snapshots.waitForPublish(after: count, timeout: timeout)
    }

    /// Snapshots published and taken so far.
    public var counts: (published: UInt64, taken: UInt64) {
        let c = snapshots.counts
        return (c.published, c.taken)
    }
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
