// Small threading tools for long-lived capture and inference threads: a monotonic clock in
// nanoseconds, a mutex with a condition variable, and a joinable named thread. None of them
// allocates after construction.

#if canImport(Glibc)
import Glibc
#endif

/// Time in nanoseconds on `CLOCK_MONOTONIC` (the clock V4L2 stamps buffers with).
public enum MonotonicClock {
    /// Now, in nanoseconds since an arbitrary fixed point.
    @inline(__always)
    public static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// CPU time the calling thread has used, in nanoseconds.
    @inline(__always)
    public static func threadCPUTime() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Sleeps for `nanoseconds` (restarting after signals until the time has passed).
    public static func sleep(nanoseconds: UInt64) {
        let deadline = now() &+ nanoseconds
        while true {
            let current = now()
            if current >= deadline { return }
            let left = deadline - current
            var request = timespec(tv_sec: Int(left / 1_000_000_000), tv_nsec: Int(left % 1_000_000_000))
            _ = nanosleep(&request, nil)
        }
    }
}

/// Nanoseconds per unit, for readable constants (`2 * Nanoseconds.second`).
public enum Nanoseconds {
    public static let millisecond: UInt64 = 1_000_000
    public static let second: UInt64 = 1_000_000_000

    /// Nanoseconds of a number of seconds (negative values give 0).
    public static func seconds(_ s: Double) -> UInt64 { s > 0 ? UInt64(s * 1e9) : 0 }
}

/// A mutex and one condition variable that waits on `CLOCK_MONOTONIC`.
///
/// Both live in memory allocated once by `init`; lock, unlock, wait and signal allocate nothing.
public final class Monitor: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    public init() {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    @inline(__always) public func lock() { pthread_mutex_lock(mutex) }
    @inline(__always) public func unlock() { pthread_mutex_unlock(mutex) }

    /// Runs `body` with the mutex held.
    @inline(__always)
    public func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// With the mutex held: releases it and waits until signalled or until `deadline`
    /// (`MonotonicClock` nanoseconds), then holds it again.
    /// - Returns: false when the deadline passed. Spurious wake-ups return true: re-check the
    ///   condition you wait for.
    @discardableResult
    public func wait(until deadline: UInt64) -> Bool {
        var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        return pthread_cond_timedwait(condition, mutex, &ts) != ETIMEDOUT
    }

    /// Wakes one waiter.
    @inline(__always) public func signal() { pthread_cond_signal(condition) }
    /// Wakes every waiter.
    @inline(__always) public func broadcast() { pthread_cond_broadcast(condition) }
}

/// A joinable thread that runs one closure, for the pipeline's long-lived threads.
public final class WorkerThread: @unchecked Sendable {
    private var thread = pthread_t()
    private var joined = false

    private final class Start {
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }

    /// Starts `body` on a new thread.
    /// - Parameters:
    ///   - name: shown by `top -H` and debuggers; the first 15 bytes are kept.
    ///   - body: runs once; the thread ends when it returns.
    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        let start = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
        let status = pthread_create(&thread, nil, { argument in
            let start = Unmanaged<Start>.fromOpaque(argument!).takeRetainedValue()
            _ = setThreadName(pthread_self(), String(start.name.utf8.prefix(15))!)
            start.body()
            return nil
        }, start)
        precondition(status == 0, "pthread_create failed: \(errnoName(status))")
    }

    /// Waits for the closure to return. Call once, from another thread.
    public func join() {
        guard !joined else { return }
        joined = true
        pthread_join(thread, nil)
    }
}

/// glibc's `pthread_setname_np` (declared only under _GNU_SOURCE, so not imported by Glibc).
@_silgen_name("pthread_setname_np")
private func setThreadName(_ thread: pthread_t, _ name: UnsafePointer<CChar>) -> Int32
