import Foundation
import Testing

/// `bench --json` reports the contract's keys; a forward pass allocates nothing in steady state.
@Suite(.enabled(if: CLI.binary != nil && FileManager.default.fileExists(atPath: CLI.defaultModel), "no deepscope binary or default model: run Scripts/test"))
struct BenchTests {
    @Test func benchReportsKeysAndZeroAllocations() throws {
        let r = try CLI.deepscope("bench", "--json", "--runs", "20", "--warmup", "3")
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try CLI.json(try #require(r.stdout.split(separator: "\n").last))
        for key in ["forward_ms_median", "forward_ms_p99", "project_ms_median", "threads", "allocations_per_frame"] {
            #expect(obj.keys.contains(key), "bench --json lacks \(key)")
        }
        let median = try #require(obj["forward_ms_median"] as? Double)
        let p99 = try #require(obj["forward_ms_p99"] as? Double)
        #expect(median > 0 && p99 >= median)
        // The counter must really be active (a number, not null) and count zero.
        let allocations = try #require(obj["allocations_per_frame"] as? Double)
        #expect(allocations == 0)
        // Forward + deconv of the last convolution's most active unit: timed and allocation-free.
        let project = try #require(obj["project_ms_median"] as? Double)
        #expect(project > 0)
        #expect(obj["project_layer"] as? String == "head_relu6")
        #expect(obj["allocations_per_projected_frame"] as? Double == 0)
    }
}
