// Per-frame durations kept in a fixed ring, summarized (median, p99) on demand.

/// Median, 99th percentile and extremes of a set of durations, in milliseconds.
public struct TimingSummary: Sendable, Equatable {
    /// Samples recorded in total (the statistics cover the most recent `window` of them).
    public var count: Int
    /// Samples the statistics are computed over.
    public var window: Int
    public var medianMilliseconds: Double
    public var p99Milliseconds: Double
    public var minimumMilliseconds: Double
    public var maximumMilliseconds: Double
    public var meanMilliseconds: Double

    public static let empty = TimingSummary(count: 0, window: 0, medianMilliseconds: 0, p99Milliseconds: 0,
                                            minimumMilliseconds: 0, maximumMilliseconds: 0, meanMilliseconds: 0)

    /// Summarizes nanosecond samples. The p99 is the nearest-rank value: the smallest sample with at
    /// least 99% of the samples at or below it.
    public init(nanoseconds samples: [UInt64], count: Int? = nil) {
        guard !samples.isEmpty else {
            self = .empty
            self.count = count ?? 0
            return
        }
        let sorted = samples.sorted()
        let n = sorted.count
        func ms(_ ns: UInt64) -> Double { Double(ns) / 1e6 }
        let median = n % 2 == 1 ? ms(sorted[n / 2]) : (ms(sorted[n / 2 - 1]) + ms(sorted[n / 2])) / 2
        let rank = min(n - 1, max(0, Int((Double(n) * 0.99).rounded(.up)) - 1))
        self.init(count: count ?? n, window: n, medianMilliseconds: median, p99Milliseconds: ms(sorted[rank]),
                  minimumMilliseconds: ms(sorted[0]), maximumMilliseconds: ms(sorted[n - 1]),
                  meanMilliseconds: sorted.reduce(0.0) { $0 + ms($1) } / Double(n))
    }

    public init(count: Int, window: Int, medianMilliseconds: Double, p99Milliseconds: Double,
                minimumMilliseconds: Double, maximumMilliseconds: Double, meanMilliseconds: Double) {
        self.count = count
        self.window = window
        self.medianMilliseconds = medianMilliseconds
        self.p99Milliseconds = p99Milliseconds
        self.minimumMilliseconds = minimumMilliseconds
        self.maximumMilliseconds = maximumMilliseconds
        self.meanMilliseconds = meanMilliseconds
    }
}

/// Records durations from one thread into a ring allocated once; any thread may summarize.
///
/// `record` takes an uncontended lock and allocates nothing; `summary()` copies and sorts the
/// window (call it for reports, not per frame).
public final class TimingRecorder: @unchecked Sendable {
    private let monitor = Monitor()
    private let samples: UnsafeMutableBufferPointer<UInt64>
    private var total = 0

    /// - Parameter capacity: how many of the most recent samples the summary covers.
    public init(capacity: Int = 16384) {
        precondition(capacity > 0, "a timing ring needs room for at least one sample")
        samples = .allocate(capacity: capacity)
        samples.initialize(repeating: 0)
    }

    deinit { samples.deallocate() }

    /// Adds one duration in nanoseconds.
    @inline(__always)
    public func record(_ nanoseconds: UInt64) {
        monitor.lock()
        samples[total % samples.count] = nanoseconds
        total += 1
        monitor.unlock()
    }

    /// Samples recorded since creation or the last `reset`.
    public var count: Int { monitor.withLock { total } }

    /// Forgets every sample.
    public func reset() { monitor.withLock { total = 0 } }

    /// The statistics of the most recent samples.
    public func summary() -> TimingSummary {
        let (window, count): ([UInt64], Int) = monitor.withLock {
            (Array(samples.prefix(min(total, samples.count))), total)
        }
        return TimingSummary(nanoseconds: window, count: count)
    }
}
