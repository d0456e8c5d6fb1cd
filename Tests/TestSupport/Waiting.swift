import Glibc
import Support

/// Polls `condition` every millisecond until it holds or `seconds` pass.
@discardableResult
public func waitUntil(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = MonotonicClock.now() + Nanoseconds.seconds(seconds)
    while MonotonicClock.now() < deadline {
        if condition() { return true }
        usleep(1000)
    }
    return condition()
}
