import Engine
import TestSupport
import Testing

/// `gradient` mode is the true gradient: it matches central finite differences of
/// Σ seed ⊙ activation, for both kinds of seed, on every operation.
///
/// The finite differences are taken of a double-precision forward pass (checked here against the
/// engine's own), so they are exact to far below the tolerance; a second test takes them of the
/// engine's float32 forward pass itself with a step of 1e-2.
@Suite("Projection: gradient equals finite differences")
struct ProjectionGradientTests {
    /// Networks whose inputs are away from kinks almost everywhere (integer inputs sit on ties).
    static let networks = (projectionConvNets + projectionOpNets + projectionEndToEndNets).filter {
        if case .integers = $0.inputKind { return false }
        return true
    }

    /// For every layer to project from, its strongest unit with a position seed and with its
    /// activation seed; checked on the input positions where these projections are largest and on
    /// 16 positions at random, all units sharing the perturbed forward passes.
    @Test(arguments: networks)
    func matchesFiniteDifferences(_ net: ProjectionNet) throws {
        let graph = try net.graph()
        let input = net.inputData()
        let harness = ProjectionHarness(graph: graph, input: input)
        let x = input.map(Double.init)
        let targets = net.targetValues(graph)
        let (base, decisions) = NaiveProjection.forward(graph: graph, input: x, targets: targets)

        struct Check { var label: String, target: Int, seed: [Double], projection: [Float] }
        var checks: [Check] = []
        for target in targets {
            let name = graph.values[target].name
            let act = harness.activations(target)
            #expect(maxRelativeError(act, base[target].map(Float.init)) <= 1e-4,
                    "\(name): the engine's forward pass differs from the double-precision one")
            // A unit with a gradient at its position (not saturated).
            let unit = strongestUnit(graph, target, act) { c, y, x in
                (try? harness.project(target, channel: c, at: (y: y, x: x), mode: .gradient))?.contains { $0 != 0 } ?? false
            }
            for position in [(y: unit.y, x: unit.x), nil] as [(y: Int, x: Int)?] {
                checks.append(Check(
                    label: "\(name) unit \(unit.channel) \(position.map { "at \($0.y),\($0.x)" } ?? "activation seed")",
                    target: target, seed: harness.seed(target, channel: unit.channel, at: position).map(Double.init),
                    projection: try harness.project(target, channel: unit.channel, at: position, mode: .gradient)))
            }
        }

        var positions = Set<Int>()
        for check in checks {
            let p = check.projection
            positions.formUnion(p.indices.sorted { abs(p[$0]) > abs(p[$1]) }.prefix(6))
        }
        var g = rng("positions of " + net.name)
        for _ in 0..<min(16, input.count) { positions.insert(Int.random(in: 0..<input.count, using: &g)) }
        if input.count <= 48 { positions = Set(input.indices) }

        let step = 1e-3
        var numeric = [[(Int, Double)]](repeating: [], count: checks.count)
        var skipped = 0
        for p in positions.sorted() {
            var moved = x
            moved[p] = x[p] + step
            let up = NaiveProjection.forward(graph: graph, input: moved, targets: targets)
            moved[p] = x[p] - step
            let down = NaiveProjection.forward(graph: graph, input: moved, targets: targets)
            // A step that flips a rectifier or a switch crosses a kink: no derivative to compare.
            guard up.decisions == decisions && down.decisions == decisions else { skipped += 1; continue }
            for (k, check) in checks.enumerated() {
                func objective(_ values: [[Double]]) -> Double {
                    zip(check.seed, values[check.target]).reduce(0.0) { $0 + $1.0 * $1.1 }
                }
                numeric[k].append((p, (objective(up.values) - objective(down.values)) / (2 * step)))
            }
        }
        #expect(skipped * 4 <= positions.count, "only \(positions.count - skipped) of \(positions.count) positions away from a kink")
        for (k, check) in checks.enumerated() {
            let ours = numeric[k].map { check.projection[$0.0] }
            let reference = numeric[k].map { Float($0.1) }
            #expect(reference.contains { $0 != 0 }, "\(check.label): the unit does not depend on the checked inputs")
            let error = maxRelativeError(ours, reference)
            #expect(error <= 1e-3, "\(check.label): relative error \(error) against finite differences")
        }
    }

    /// The same with finite differences of the engine's own float32 forward pass (step 1e-2), on a
    /// network of Conv, Relu and MaxPool; positions where the step flips a decision are skipped.
    @Test func matchesFiniteDifferencesOfTheEngine() throws {
        let net = projectionEndToEndNets.first { $0.name.hasPrefix("VGG") }!
        let graph = try net.graph()
        let harness = ProjectionHarness(graph: graph, input: net.inputData())
        for target in [harness.value("r3"), harness.value("p1")] {
            let unit = strongestUnit(graph, target, harness.activations(target))
            for position in [(y: unit.y, x: unit.x), nil] as [(y: Int, x: Int)?] {
                let label = "\(graph.values[target].name) \(position == nil ? "activation seed" : "at")"
                let projection = try harness.project(target, channel: unit.channel, at: position, mode: .gradient)
                let positions = Array(projection.indices.sorted { abs(projection[$0]) > abs(projection[$1]) }.prefix(24))
                let numeric = harness.finiteDifferences(target, seed: harness.seed(target, channel: unit.channel, at: position),
                                                        positions: positions, step: 1e-2)
                let pairs = zip(positions, numeric).compactMap { i, d in d.map { (projection[i], Float($0)) } }
                #expect(pairs.count * 4 >= positions.count * 3, "\(label)")
                #expect(pairs.contains { $0.1 != 0 }, "\(label)")
                #expect(maxRelativeError(pairs.map(\.0), pairs.map(\.1)) <= 1e-3, "\(label)")
                // The finite differences left the forward state as it was.
                #expect(try harness.project(target, channel: unit.channel, at: position, mode: .gradient) == projection)
            }
        }
    }

    /// Batch item 0 holds the seed: the projection onto every other batch item is zero.
    @Test func otherBatchItemsGetNothing() throws {
        let net = projectionConvNets.first { $0.input[0] == 2 }!
        let graph = try net.graph()
        let harness = ProjectionHarness(graph: graph, input: net.inputData())
        let y = graph.outputs[0]
        for mode in ProjectionMode.allCases {
            for position in [(y: 2, x: 3), nil] as [(y: Int, x: Int)?] {
                let p = try harness.project(y, channel: 1, at: position, mode: mode)
                let half = p.count / 2
                #expect(p[half...].allSatisfy { $0 == 0 }, "\(mode)")
                #expect(p[..<half].contains { $0 != 0 }, "\(mode)")
            }
        }
    }

    /// Every class of a final [1, K] layer is a unit: with a position (whose value is ignored) the
    /// seed is 1 at the class, without one its activation; the two differ by exactly that factor.
    /// Checked against finite differences of the engine's forward pass.
    @Test func classUnits() throws {
        let net = projectionOpNets.first { $0.name.hasPrefix("Classifier") }!
        let graph = try net.graph()
        let harness = ProjectionHarness(graph: graph, input: net.inputData())
        let prob = harness.value("prob")
        let p = harness.activations(prob)
        for k in 0..<4 {
            let one = try harness.project(prob, channel: k, at: (y: 0, x: 0), mode: .gradient)
            let ignored = try harness.project(prob, channel: k, at: (y: 7, x: -3), mode: .gradient)
            #expect(one == ignored, "class \(k): the position of a [1, K] unit is ignored")
            let scaled = try harness.project(prob, channel: k, at: nil, mode: .gradient)
            #expect(maxRelativeError(scaled, one.map { $0 * p[k] }) <= 1e-6, "class \(k)")
            let seed = harness.seed(prob, channel: k, at: (y: 0, x: 0))
            let positions = Array(one.indices.filter { $0 % 6 == k })
            let numeric = harness.finiteDifferences(prob, seed: seed, positions: positions, step: 1e-2)
            let pairs = zip(positions, numeric).compactMap { i, d in d.map { (one[i], Float($0)) } }
            #expect(pairs.count * 4 >= positions.count * 3)
            #expect(maxRelativeError(pairs.map(\.0), pairs.map(\.1)) <= 1e-3, "class \(k)")
        }
    }
}
