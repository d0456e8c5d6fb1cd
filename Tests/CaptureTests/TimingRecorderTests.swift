import Capture
import Support
import Testing

@Suite("Timing statistics")
struct TimingRecorderTests {
    @Test("median and nearest-rank p99")
    func summary() {
        let samples = (1...100).map { UInt64($0) * 1_000_000 }
        let s = TimingSummary(nanoseconds: samples.shuffled())
        #expect(s.medianMilliseconds == 50.5)
        #expect(s.p99Milliseconds == 99)
        #expect(s.minimumMilliseconds == 1 && s.maximumMilliseconds == 100)
        #expect(TimingSummary(nanoseconds: [3_000_000]).p99Milliseconds == 3)
        #expect(TimingSummary(nanoseconds: []).window == 0)
    }

    @Test("the recorder keeps the most recent samples and counts all")
    func ring() {
        let r = TimingRecorder(capacity: 4)
        for v in [100, 100, 100, 1, 2, 3, 4] as [UInt64] { r.record(v * 1_000_000) }
        let s = r.summary()
        #expect(s.count == 7 && s.window == 4)
        #expect(s.maximumMilliseconds == 4 && s.minimumMilliseconds == 1)
    }
}
