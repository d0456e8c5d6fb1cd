/// The rules of one operation, in one file per op: how its output shape follows from its inputs,
/// how its forward step is planned, how a projection carries a gradient back through it (in the
/// three modes), what it does to a receptive field and what it costs.
///
/// `Operation` is the registry: `Operation.rules` maps each case to its op type, and `Graph`,
/// `Network`, `Projector`, `ReceptiveField` and `inspect` ask the op, never switch on the case.
protocol Op {
    /// The ONNX-like name, for messages and `inspect`.
    var kindName: String { get }

    /// The output shape for the inputs `check` holds; throws a `GraphError` naming the node.
    func outputShape(_ check: ShapeCheck) throws -> Shape

    /// The forward step for fixed shapes: the parameters it keeps in the arena, the switches and
    /// scratch it needs, and how to build its work once those have addresses.
    func forward(_ context: ForwardContext) -> ForwardPlan

    /// Whether a Relu/Clip/LeakyRelu that follows may be applied in this op's epilogue.
    var acceptsEpilogue: Bool { get }

    /// The activation this op is, when a convolution before it can apply it in its epilogue.
    var epilogue: FusedActivation? { get }

    /// The backward step: each input's gradient from the output's, in the context's mode.
    func backward(_ context: BackwardContext) -> [Work]

    /// Floats of scratch per thread that `backward` needs.
    func backwardScratch(input: Shape, output: Shape) -> Int

    /// The receptive field of the output, from those of the (non-constant) inputs.
    func receptiveField(_ context: FieldContext) -> ReceptiveField

    /// Multiply-adds and parameters of one run over `output`.
    func cost(output: Shape) -> OpCost
}

extension Op {
    var acceptsEpilogue: Bool { false }
    var epilogue: FusedActivation? { nil }
    func backwardScratch(input: Shape, output: Shape) -> Int { 0 }
    /// Elementwise ops see what their input sees.
    func receptiveField(_ context: FieldContext) -> ReceptiveField { context.first }
    func cost(output: Shape) -> OpCost { OpCost(macs: 0, parameters: 0) }
}

/// Multiply-adds and parameter count of one node, for `inspect`.
public struct OpCost: Sendable, Equatable {
    public var macs: Int
    public var parameters: Int
    public init(macs: Int, parameters: Int) { self.macs = macs; self.parameters = parameters }
}

// MARK: - Shapes

/// The input shapes of a node being added, with the checks every op's shape rule uses.
struct ShapeCheck {
    let node: String
    let kind: String
    let inputs: [Shape]

    /// The first input's shape.
    var first: Shape { inputs[0] }

    func fail(_ detail: String) -> GraphError { .shapeMismatch(node: node, detail: detail) }

    /// Throws unless the node has exactly `n` inputs.
    func inputs(_ n: Int) throws {
        guard inputs.count == n else { throw fail("\(kind) takes \(n) input(s), got \(inputs.count)") }
    }

    /// One input, whose shape the output keeps (elementwise ops).
    func sameShape() throws -> Shape {
        try inputs(1)
        return first
    }

    /// The first input as NCHW, or throws.
    func nchw() throws -> (n: Int, c: Int, h: Int, w: Int) {
        guard let s = inputs.first, s.rank == 4 else {
            throw fail("\(kind) needs an NCHW input, got \(inputs.first?.description ?? "none")")
        }
        return (s[0], s[1], s[2], s[3])
    }
}

// MARK: - Forward

/// What a forward step is planned for.
struct ForwardContext {
    let node: Int
    let inputs: [Shape]
    let output: Shape
    let threads: Int
}

/// A planned forward step, before the arena exists.
struct ForwardPlan {
    /// Arrays copied into the arena once (weights, biases, scales); `build` gets their addresses.
    var parameters: [[Float]] = []
    /// Max-pool switches the step records (Int32 slots).
    var switches = 0
    /// Floats of scratch one thread needs.
    var scratchPerThread = 0
    /// The step's work over fixed addresses.
    var build: (ForwardBinding) -> Work
}

extension ForwardPlan {
    /// An elementwise step over `count` elements: `kernel(x + s, y + s, n)` on flat chunks.
    static func elementwise(_ count: Int,
                            _ kernel: @escaping (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> ForwardPlan {
        ForwardPlan { b in
            let x = b.x, y = b.output
            return Work.flat(count) { s, e in kernel(x + s, y + s, e - s) }
        }
    }
}

/// The addresses a forward step's work runs on, fixed for the network's lifetime.
struct ForwardBinding {
    let node: Int
    let inputs: [UnsafePointer<Float>]
    let output: UnsafeMutablePointer<Float>
    let parameters: [UnsafeMutablePointer<Float>]
    let switches: UnsafeMutablePointer<Int32>?
    /// Per-thread scratch: worker k uses `scratch + k * scratchPerThread`.
    let scratch: UnsafeMutablePointer<Float>
    let scratchPerThread: Int
    /// Per worker: which node's layout its scratch holds (see `ConvPlan`).
    let scratchTags: UnsafeMutablePointer<Int>
    let threads: Int
    /// A fused activation and the buffer of its output, for ops that accept an epilogue: the step
    /// then writes only the activation's output.
    let epilogue: (activation: FusedActivation, output: UnsafeMutablePointer<Float>)?

    /// The first input.
    var x: UnsafePointer<Float> { inputs[0] }
}

// MARK: - Receptive fields

/// What an op's receptive-field rule sees.
struct FieldContext {
    /// The receptive fields of the inputs that have one (constants have none).
    let inputs: [ReceptiveField]
    /// The shape of the first input that has a field.
    let sourceShape: Shape
    let output: Shape
    /// One window covering the whole input: what every unit sees after a global pool or a dense layer.
    let whole: ReceptiveField

    var first: ReceptiveField { inputs[0] }

    /// Every path counts: the widest window (the branches share the same grid).
    var widest: ReceptiveField {
        var r = first
        for other in inputs.dropFirst() where other.sizeY * other.sizeX > r.sizeY * r.sizeX { r = other }
        return r
    }
}

// MARK: - Work

/// A step's work, split into tasks for the pool. Built once, when the network (or a projection)
/// is planned: the closures capture only fixed addresses, so running them allocates nothing.
struct Work {
    let tasks: Int
    let body: (_ task: Int, _ worker: Int) -> Void

    /// Elements per task for flat elementwise loops.
    static let flatChunk = 8192

    /// One task.
    static func serial(_ body: @escaping () -> Void) -> Work { Work(tasks: 1) { _, _ in body() } }

    /// A flat loop over `count` elements in chunks of `flatChunk`: `body(start, end)`.
    static func flat(_ count: Int, _ body: @escaping (Int, Int) -> Void) -> Work {
        Work(tasks: (count + flatChunk - 1) / flatChunk) { t, _ in
            let s = t * flatChunk
            body(s, min(count, s + flatChunk))
        }
    }
}
