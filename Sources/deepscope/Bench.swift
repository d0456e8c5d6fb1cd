import ArgumentParser
import CAllocationCounter
import Engine
import Foundation
import ModelIO

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measures model load, forward-pass latency, allocations per frame and memory.")

    @OptionGroup var options: ModelOptions

    @Option(name: .long, help: "Timed forward passes (after warm-up).")
    var runs: Int = 200

    @Option(name: .long, help: "Untimed warm-up passes.")
    var warmup: Int = 20

    @Flag(name: .long, help: "One JSON object on one line.")
    var json = false

    func run() throws {
        guard runs >= 1, warmup >= 0 else { throw UserError("--runs must be at least 1 and --warmup at least 0.") }
        let clock = ContinuousClock()
        let loadStart = clock.now
        let (model, network) = try options.load()
        let loadMs = (clock.now - loadStart).milliseconds

        // A deterministic input in the model's normalized range.
        let input = network.input
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for i in input.indices {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            input[i] = Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
        }
        for _ in 0..<warmup { network.forward() }

        // Allocations: counted over whole forward passes, after warm-up.
        let allocationRuns = 20
        let counting = ds_allocation_counter_active() != 0
        ds_allocation_counter_start()
        for _ in 0..<allocationRuns { network.forward() }
        let allocations = ds_allocation_counter_stop()
        if ProcessInfo.processInfo.environment["DEEPSCOPE_TRACE_ALLOCATIONS"] != nil {
            ds_allocation_counter_start()
            network.forward { node in
                let n = ds_allocation_counter_stop()
                if n > 0 { FileHandle.standardError.write(Data("\(network.graph.nodes[node].name): \(n) allocations\n".utf8)) }
                ds_allocation_counter_start()
            }
            _ = ds_allocation_counter_stop()
        }

        var times: [Double] = []
        times.reserveCapacity(runs)
        for _ in 0..<runs {
            let t0 = clock.now
            network.forward()
            times.append((clock.now - t0).milliseconds)
        }
        times.sort()
        let median = times[times.count / 2]
        let p99 = times[min(times.count - 1, Int((Double(times.count) * 0.99).rounded(.up)) - 1)]

        // Forward + deconv projection of the most active unit of the last convolution's layer (its
        // activation's output when an activation follows it), seeded with its activation map.
        let projector = Projector(network: network)
        let unitLayer = Bench.lastConvolutionLayer(network.graph)
        var projectTimes: [Double] = []
        var projectAllocations: UInt64 = 0
        func mostActive() -> Int {
            guard let layer = unitLayer else { return 0 }
            let (c, h, w) = network.graph.values[layer].shape.chw
            let a = network.buffer(layer)
            var best = 0, bestValue = -Float.infinity
            for ch in 0..<c {
                for i in 0..<(h * w) where a[ch * h * w + i] > bestValue { bestValue = a[ch * h * w + i]; best = ch }
            }
            return best
        }
        if let layer = unitLayer {
            for _ in 0..<max(3, warmup / 2) {
                network.forward()
                try projector.project(value: layer, channel: mostActive(), at: nil, mode: .deconv)
            }
            ds_allocation_counter_start()
            for _ in 0..<allocationRuns {
                network.forward()
                try projector.project(value: layer, channel: mostActive(), at: nil, mode: .deconv)
            }
            projectAllocations = ds_allocation_counter_stop()
            projectTimes.reserveCapacity(runs)
            for _ in 0..<runs {
                let t0 = clock.now
                network.forward()
                try projector.project(value: layer, channel: mostActive(), at: nil, mode: .deconv)
                projectTimes.append((clock.now - t0).milliseconds)
            }
            projectTimes.sort()
        }
        let projectMedian: Double? = projectTimes.isEmpty ? nil : projectTimes[projectTimes.count / 2]
        if let layer = unitLayer, ProcessInfo.processInfo.environment["DEEPSCOPE_PROFILE"] != nil {
            // Per-node times of the forward pass and of the projection, by op, to stderr.
            var forwardByOp: [String: Double] = [:], backwardByOp: [String: Double] = [:]
            for _ in 0..<20 {
                var t0 = clock.now
                network.forward { node in
                    let t = clock.now
                    forwardByOp[network.graph.nodes[node].op.kindName, default: 0] += (t - t0).milliseconds / 20
                    t0 = t
                }
                t0 = clock.now
                try projector.project(value: layer, channel: mostActive(), at: nil, mode: .deconv) { node in
                    let t = clock.now
                    backwardByOp[network.graph.nodes[node].op.kindName, default: 0] += (t - t0).milliseconds / 20
                    t0 = t
                }
            }
            for (title, table) in [("forward", forwardByOp), ("deconv", backwardByOp)] {
                for (op, ms) in table.sorted(by: { $0.value > $1.value }) {
                    FileHandle.standardError.write(Data(String(format: "%@ %-20@ %8.3f ms\n", title, op, ms).utf8))
                }
            }
        }
        let rssMB = Double(residentBytes()) / 1e6
        let imports = try Bench.importTimes(model.url.path)
        let result: [String: Any] = [
            "model": model.url.lastPathComponent,
            "threads": network.pool.threadCount,
            "runs": runs,
            "load_ms": rounded(loadMs),
            "forward_ms_median": rounded(median),
            "forward_ms_p99": rounded(p99),
            "forward_ms_min": rounded(times[0]),
            "project_ms_median": projectMedian.map(rounded) as Any? ?? NSNull(),
            "project_layer": unitLayer.map { network.graph.values[$0].name } as Any? ?? NSNull(),
            "project_to_forward_ratio": projectMedian.map { rounded($0 / median) } as Any? ?? NSNull(),
            "allocations_per_frame": counting ? Double(allocations) / Double(allocationRuns) : NSNull() as Any,
            "allocations_per_projected_frame": counting ? Double(projectAllocations) / Double(allocationRuns) : NSNull() as Any,
            "rss_mb": rounded(rssMB),
            "arena_mb": rounded(Double(network.arenaBytes) / 1e6),
            "import_ms_median": rounded(imports.folded),
            "import_unfolded_ms_median": imports.unfolded.map(rounded) as Any? ?? NSNull(),
            "folding_import_ratio": imports.unfolded.map { rounded(imports.folded / $0) } as Any? ?? NSNull(),
        ]
        if json {
            print(try JSONLine.encode(result))
        } else {
            print("\(model.url.path) on \(network.pool.threadCount) thread(s), \(runs) runs after \(warmup) warm-up")
            print(String(format: "  load            %8.2f ms", loadMs))
            print(String(format: "  forward median  %8.3f ms   p99 %.3f ms   min %.3f ms", median, p99, times[0]))
            if let projectMedian, let layer = unitLayer {
                print(String(format: "  forward+deconv  %8.3f ms   (%.2f× forward; from %@)", projectMedian, projectMedian / median,
                             network.graph.values[layer].name))
            }
            print("  allocations     \(counting ? String(format: "%.2f", Double(allocations) / Double(allocationRuns)) : "not counted") per forward pass, " +
                  "\(counting ? String(format: "%.2f", Double(projectAllocations) / Double(allocationRuns)) : "not counted") per forward + projection")
            print(String(format: "  resident        %8.1f MB   (arena %.1f MB)", rssMB, Double(network.arenaBytes) / 1e6))
            if let unfolded = imports.unfolded {
                print(String(format: "  model import    %8.2f ms with constant folding, %.2f ms without (%.3f×)",
                             imports.folded, unfolded, imports.folded / unfolded))
            } else {
                print(String(format: "  model import    %8.2f ms with constant folding (without, the model does not load)", imports.folded))
            }
        }
    }

    private func rounded(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }

    /// Median times of importing the model (ONNX file to graph, before planning) with the constant
    /// folder and without it, alternating, 9 times each; nil without when the model needs folding.
    static func importTimes(_ path: String) throws -> (folded: Double, unfolded: Double?) {
        let clock = ContinuousClock()
        var folded: [Double] = [], unfolded: [Double] = []
        var needsFolding = false
        for _ in 0..<9 {
            var t0 = clock.now
            _ = try ModelLoader.load(path: path)
            folded.append((clock.now - t0).milliseconds)
            guard !needsFolding else { continue }
            t0 = clock.now
            do { _ = try ModelLoader.load(path: path, foldConstants: false) } catch { needsFolding = true; continue }
            unfolded.append((clock.now - t0).milliseconds)
        }
        folded.sort(); unfolded.sort()
        return (folded[folded.count / 2], needsFolding ? nil : unfolded[unfolded.count / 2])
    }

    /// The last convolution's layer as users see it: its activation's output when a Relu, Clip or
    /// LeakyRelu consumes it directly.
    static func lastConvolutionLayer(_ graph: Graph) -> Int? {
        guard let i = graph.nodes.lastIndex(where: { if case .conv = $0.op { return true }; return false }) else { return nil }
        let out = graph.nodes[i].output
        if i + 1 < graph.nodes.count, graph.nodes[i + 1].inputs == [out] {
            switch graph.nodes[i + 1].op {
            case .relu, .clip, .leakyRelu: return graph.nodes[i + 1].output
            default: break
            }
        }
        return out
    }
}

extension Duration {
    var milliseconds: Double {
        let (s, atto) = components
        return Double(s) * 1000 + Double(atto) / 1e15
    }
}

/// Resident set size of this process, from /proc/self/statm.
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
