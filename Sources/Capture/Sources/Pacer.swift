// Frame timing for sources that are not clocked by hardware (files, the synthetic scene).

import Support

/// Releases one frame per interval, on a steady schedule that does not drift and does not burst
/// after a pause.
struct Pacer {
    /// Nanoseconds between frames; 0 releases frames as fast as they are asked for.
    let interval: UInt64
    private var nextDue: UInt64 = 0

    init(frameRate: Double) {
        interval = frameRate > 0 ? UInt64(1e9 / frameRate) : 0
    }

    /// Sleeps until the next frame is due, if that is within `timeout` nanoseconds.
    /// - Returns: true when a frame is due now; false when the timeout passed first (having slept it).
    mutating func waitForFrame(timeout: UInt64) -> Bool {
        guard interval > 0 else { return true }
        let now = MonotonicClock.now()
        if nextDue == 0 { nextDue = now }
        if nextDue > now {
            let wait = nextDue - now
            if wait > timeout {
                MonotonicClock.sleep(nanoseconds: timeout)
                return false
            }
            MonotonicClock.sleep(nanoseconds: wait)
        }
        nextDue &+= interval
        let after = MonotonicClock.now()
        if nextDue &+ interval < after { nextDue = after &+ interval }
        return true
    }

    /// Starts the schedule again from now, as if a frame had just been released.
    mutating func restartAfterFrame() { nextDue = interval > 0 ? MonotonicClock.now() &+ interval : 0 }

    /// Starts the schedule again (the next frame is due at once).
    mutating func reset() { nextDue = 0 }
}
