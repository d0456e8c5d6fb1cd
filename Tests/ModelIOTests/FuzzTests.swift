import Foundation
import Engine
import ModelIO
import Testing
import TestSupport

/// A valid model that uses every supported operator, as a seed for mutation.
func everyOperatorModel() -> ONNXBuilder {
    var b = ONNXBuilder(opset: 13)
    b.weight("w1", [8, 3, 3, 3], ramp(216))
    b.weight("b1", [8], ramp(8))
    for (name, offset) in [("g", Float(1)), ("be", 0), ("mu", 0), ("va", 1)] { b.weight(name, [8], ramp(8, scale: 0.01, offset: offset)) }
    b.weight("lo", [], [0])
    b.weight("hi", [], [6])
    b.weight("dw", [8, 1, 3, 3], ramp(72))
    b.weight("bias", [1, 8, 1, 1], ramp(8))
    b.ints("pads", [8], [0, 0, 1, 1, 0, 0, 1, 1], raw: true)
    b.weight("mm", [16, 10], ramp(160), raw: false)
    b.weight("gB", [5, 10], ramp(50))
    b.weight("gC", [5], ramp(5))
    b.node("Conv", ["x", "w1", "b1"], ["c1"], [attr("pads", ints: [1, 1, 1, 1]), attr("kernel_shape", ints: [3, 3])])
    b.node("BatchNormalization", ["c1", "g", "be", "mu", "va"], ["bn1"], [attr("epsilon", float: 1e-5)])
    b.node("Clip", ["bn1", "lo", "hi"], ["clip1"])
    b.node("MaxPool", ["clip1"], ["mp"], [attr("kernel_shape", ints: [2, 2]), attr("strides", ints: [2, 2])])
    b.node("LRN", ["mp"], ["lrn"], [attr("size", int: 3), attr("alpha", float: 1e-4), attr("beta", float: 0.75)])
    b.node("Conv", ["lrn", "dw"], ["dwc"], [attr("group", int: 8), attr("auto_pad", string: "SAME_UPPER")])
    b.node("LeakyRelu", ["dwc"], ["lk"], [attr("alpha", float: 0.1)])
    b.node("Sigmoid", ["lk"], ["sg"])
    b.node("Mul", ["lk", "sg"], ["sw"])
    b.node("Add", ["sw", "bias"], ["ad"])
    b.node("Relu", ["ad"], ["rl"])
    b.node("Concat", ["rl", "lrn"], ["cat"], [attr("axis", int: -3)])
    b.node("AveragePool", ["cat"], ["ap"], [attr("kernel_shape", ints: [2, 2]), attr("strides", ints: [2, 2]),
                                            attr("count_include_pad", int: 1)])
    b.node("Pad", ["ap", "pads"], ["pd"], [attr("mode", string: "constant")])
    b.node("GlobalAveragePool", ["pd"], ["gap"])
    b.node("Constant", [], ["shape"], [attr("value", tensor: int64Tensor("", [2], [1, -1]))])
    b.node("Reshape", ["gap", "shape"], ["rs"])
    b.node("Dropout", ["rs"], ["dr", "mask"])
    b.node("MatMul", ["dr", "mm"], ["mmo"])
    b.node("Gemm", ["mmo", "gB", "gC"], ["gm"], [attr("transB", int: 1), attr("alpha", float: 0.5)])
    b.node("Identity", ["gm"], ["id"])
    b.node("Flatten", ["id"], ["fl"])
    b.node("Softmax", ["fl"], ["prob"], [attr("axis", int: -1)])
    b.output("prob")
    return b
}

@Suite struct FuzzTests {
    @Test func seedModelsLoad() throws {
        let m = try everyOperatorModel().load()
        #expect(m.shape("prob") == Shape([1, 5]))
        #expect(m.node("bn1")?.folded == ["c1"])
        #expect(try smallClassifier().load().graph.nodes.count == 6)
    }

    static let interesting: [Int64] = [0, 1, 2, 3, 4, 5, 7, 8, -1, -2, -3, 16, 255, 1 << 15, 1 << 16, 1 << 20,
                                       1 << 31, (1 << 31) - 1, 1 << 32, 1 << 62, Int64.max, Int64.min, -(1 << 31)]
    static let opTypes = ["Conv", "BatchNormalization", "Relu", "Clip", "LeakyRelu", "Sigmoid", "MaxPool", "AveragePool",
                          "GlobalAveragePool", "LRN", "Add", "Mul", "Concat", "Flatten", "Reshape", "Gemm", "MatMul",
                          "Dropout", "Identity", "Softmax", "Pad", "Constant", "Shape", "Gather", "Resize", ""]
    static let attributeNames = ["pads", "strides", "dilations", "kernel_shape", "group", "axis", "auto_pad", "ceil_mode",
                                 "count_include_pad", "transA", "transB", "alpha", "beta", "epsilon", "min", "max",
                                 "size", "mode", "value", "shape", "allowzero", "storage_order", "training_mode", "spatial",
                                 "value_float", "value_floats", "value_int", "value_ints", "broadcast"]

    /// Every case either loads or throws a `ModelError`; none crashes, traps or takes long.
    /// `DEEPSCOPE_FUZZ_CASES` and `DEEPSCOPE_FUZZ_SEED` override the defaults; `DEEPSCOPE_FUZZ_MODEL`
    /// adds a model file to the seeds.
    @Test func loaderSurvivesRandomAndMutatedModels() throws {
        let env = ProcessInfo.processInfo.environment
        let seed = env["DEEPSCOPE_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0xD33B_5C09E
        let cases = env["DEEPSCOPE_FUZZ_CASES"].flatMap { Int($0) } ?? 5000
        print("ModelIO fuzz: seed \(seed), \(cases) cases (set DEEPSCOPE_FUZZ_SEED / DEEPSCOPE_FUZZ_CASES to change)")
        var rng = SplitMix64(seed: seed)
        var seeds = [everyOperatorModel().model, smallClassifier().model, smallClassifier(opset: 9).model]
        // DEEPSCOPE_FUZZ_MODEL adds a real model file as one more seed (slower: it is re-encoded often).
        if let extra = env["DEEPSCOPE_FUZZ_MODEL"] {
            seeds.append(try Onnx_ModelProto(serializedBytes: Data(contentsOf: URL(fileURLWithPath: extra))))
        }
        let seedBytes = try seeds.map { try $0.serializedData() }

        var loaded = 0, rejected = 0
        var kinds = [String: Int]()
        var slowest: (Double, Int) = (0, -1)
        let start = Date()
        for i in 0..<cases {
            let (kind, bytes) = try mutate(seeds: seeds, seedBytes: seedBytes, rng: &rng)
            kinds[kind, default: 0] += 1
            let t0 = Date()
            do {
                let m = try ModelLoader.load(data: bytes, path: "fuzz-\(i).onnx")
                loaded += 1
                #expect(!m.graph.outputs.isEmpty, "case \(i) (seed \(seed)) loaded without outputs")
                for v in m.graph.values {
                    #expect(v.shape.dims.allSatisfy { $0 >= 0 } && v.shape.rank <= ModelLimits.maxRank,
                            "case \(i) (seed \(seed)): value '\(v.name)' has shape \(v.shape)")
                }
            } catch let error as ModelError {
                rejected += 1
                #expect(!error.description.isEmpty && error.description.hasPrefix("fuzz-\(i).onnx"),
                        "case \(i) (seed \(seed)): \(error)")
            } catch {
                Issue.record("case \(i) (seed \(seed), \(kind)) threw \(type(of: error)) instead of a ModelError: \(error)")
            }
            let dt = Date().timeIntervalSince(t0)
            if dt > slowest.0 { slowest = (dt, i) }
        }
        let total = Date().timeIntervalSince(start)
        print("ModelIO fuzz: \(loaded) loaded, \(rejected) rejected in \(String(format: "%.2f", total)) s; "
              + "slowest case \(slowest.1) took \(String(format: "%.3f", slowest.0)) s; kinds \(kinds.sorted { $0.key < $1.key })")
        #expect(loaded + rejected == cases)
        #expect(slowest.0 < 5, "case \(slowest.1) (seed \(seed)) took \(slowest.0) s")
        #expect(total < 60)
    }

    func mutate(seeds: [Onnx_ModelProto], seedBytes: [Data], rng: inout SplitMix64) throws -> (String, Data) {
        let which = Int.random(in: 0..<seeds.count, using: &rng)
        var bytes = [UInt8](seedBytes[which])
        switch Int.random(in: 0..<10, using: &rng) {
        case 0:
            let n = Int.random(in: 0...600, using: &rng)
            return ("random", Data((0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }))
        case 1, 2:
            for _ in 0..<Int.random(in: 1...12, using: &rng) {
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                bytes[i] ^= 1 << UInt8.random(in: 0...7, using: &rng)
            }
            return ("bitflip", Data(bytes))
        case 3:
            return ("truncate", Data(bytes.prefix(Int.random(in: 0..<bytes.count, using: &rng))))
        case 4:
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let at = Int.random(in: 0...bytes.count, using: &rng)
                let n = Int.random(in: 1...8, using: &rng)
                bytes.insert(contentsOf: (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: at)
            }
            return ("insert", Data(bytes))
        case 5:
            let a = Int.random(in: 0..<bytes.count, using: &rng)
            let b = min(bytes.count, a + Int.random(in: 1...32, using: &rng))
            if Bool.random(using: &rng) {
                bytes.removeSubrange(a..<b)
                return ("delete", Data(bytes))
            }
            bytes.insert(contentsOf: bytes[a..<b], at: Int.random(in: 0...bytes.count, using: &rng))
            return ("duplicate", Data(bytes))
        default:
            var model = seeds[which]
            for _ in 0..<Int.random(in: 1...3, using: &rng) { mutateFields(&model, rng: &rng) }
            return ("fields", try model.serializedData())
        }
    }

    func pick<T>(_ items: [T], _ rng: inout SplitMix64) -> T { items[Int.random(in: 0..<items.count, using: &rng)] }

    func number(_ rng: inout SplitMix64) -> Int64 {
        Bool.random(using: &rng) ? pick(Self.interesting, &rng) : Int64.random(in: -20...300, using: &rng)
    }

    func randomAttribute(_ rng: inout SplitMix64) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = pick(Self.attributeNames, &rng)
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: a.type = .int; a.i = number(&rng)
        case 1: a.type = .ints; a.ints = (0..<Int.random(in: 0...9, using: &rng)).map { _ in number(&rng) }
        case 2: a.type = .float; a.f = pick([0, 1, -1, .nan, .infinity, 1e-5, 1e30], &rng)
        case 3: a.type = .string; a.s = Data(pick(["SAME_UPPER", "SAME_LOWER", "VALID", "NOTSET", "reflect", "constant", "\u{FF}"], &rng).utf8)
        case 4: a.type = .tensor; a.t = floatTensor("", [Int(Int.random(in: 0...3, using: &rng))], ramp(Int.random(in: 0...3, using: &rng)))
        default: a.type = .floats; a.floats = [1, 2]
        }
        if Int.random(in: 0..<8, using: &rng) == 0 { a.type = .undefined }
        return a
    }

    func mutateFields(_ model: inout Onnx_ModelProto, rng: inout SplitMix64) {
        let g = model.graph
        switch Int.random(in: 0..<14, using: &rng) {
        case 0 where !g.node.isEmpty:   // op type
            model.graph.node[Int.random(in: 0..<g.node.count, using: &rng)].opType = pick(Self.opTypes, &rng)
        case 1 where !g.node.isEmpty:   // an attribute's value
            let n = Int.random(in: 0..<g.node.count, using: &rng)
            if model.graph.node[n].attribute.isEmpty || Bool.random(using: &rng) {
                model.graph.node[n].attribute.append(randomAttribute(&rng))
            } else {
                let k = Int.random(in: 0..<model.graph.node[n].attribute.count, using: &rng)
                var a = model.graph.node[n].attribute[k]
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: a.i = number(&rng)
                case 1 where !a.ints.isEmpty: a.ints[Int.random(in: 0..<a.ints.count, using: &rng)] = number(&rng)
                case 2: a.ints.append(number(&rng))
                default: a = randomAttribute(&rng); a.name = model.graph.node[n].attribute[k].name
                }
                model.graph.node[n].attribute[k] = a
            }
        case 2 where !g.node.isEmpty:   // an input name
            let n = Int.random(in: 0..<g.node.count, using: &rng)
            let names = g.node.flatMap(\.output) + g.initializer.map(\.name) + ["x", "", "nowhere"]
            if model.graph.node[n].input.isEmpty || Bool.random(using: &rng) {
                model.graph.node[n].input.append(pick(names, &rng))
            } else {
                model.graph.node[n].input[Int.random(in: 0..<model.graph.node[n].input.count, using: &rng)] = pick(names, &rng)
            }
        case 3 where !g.node.isEmpty:   // remove, duplicate or move a node
            let n = Int.random(in: 0..<g.node.count, using: &rng)
            let node = model.graph.node.remove(at: n)
            if Bool.random(using: &rng) { model.graph.node.insert(node, at: Int.random(in: 0...model.graph.node.count, using: &rng)) }
            if Bool.random(using: &rng) { model.graph.node.append(node) }
        case 4 where !g.initializer.isEmpty:   // initializer dims
            let t = Int.random(in: 0..<g.initializer.count, using: &rng)
            var dims = model.graph.initializer[t].dims
            if dims.isEmpty || Int.random(in: 0..<4, using: &rng) == 0 { dims.append(number(&rng)) }
            else { dims[Int.random(in: 0..<dims.count, using: &rng)] = number(&rng) }
            model.graph.initializer[t].dims = dims
        case 5 where !g.initializer.isEmpty:   // initializer data type
            let t = Int.random(in: 0..<g.initializer.count, using: &rng)
            model.graph.initializer[t].dataType = Int32.random(in: -1...30, using: &rng)
        case 6 where !g.initializer.isEmpty:   // initializer data length or location
            let t = Int.random(in: 0..<g.initializer.count, using: &rng)
            var tensor = model.graph.initializer[t]
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: tensor.rawData = tensor.rawData.prefix(Int.random(in: 0...tensor.rawData.count, using: &rng))
            case 1: tensor.rawData.append(contentsOf: [1, 2, 3, 4])
            case 2: tensor.floatData.append(1); tensor.int64Data.append(1)
            default: tensor.dataLocation = .external
            }
            model.graph.initializer[t] = tensor
        case 7:   // graph input dims or type
            guard !g.input.isEmpty, case .tensorType(var tt)? = g.input[0].type.value else { break }
            if Bool.random(using: &rng), !tt.shape.dim.isEmpty {
                let d = Int.random(in: 0..<tt.shape.dim.count, using: &rng)
                if Bool.random(using: &rng) { tt.shape.dim[d].dimValue = number(&rng) } else { tt.shape.dim[d].dimParam = "n" }
            } else if Bool.random(using: &rng) {
                tt.shape.dim.append(tt.shape.dim.first ?? Onnx_TensorShapeProto.Dimension())
            } else {
                tt.elemType = Int32.random(in: 0...16, using: &rng)
            }
            model.graph.input[0].type.tensorType = tt
        case 8:   // graph outputs
            let names = g.node.flatMap(\.output) + ["x", "nowhere", ""]
            if !g.output.isEmpty && Bool.random(using: &rng) { model.graph.output.removeLast() }
            var info = Onnx_ValueInfoProto()
            info.name = pick(names, &rng)
            if Bool.random(using: &rng) { model.graph.output.append(info) }
        case 9:   // opset
            model.opsetImport[0].version = pick([1, 4, 5, 6, 7, 9, 10, 11, 12, 13, 17, 18, 21, 99, -1, Int64.max], &rng)
        case 10 where !g.node.isEmpty:   // output names
            let n = Int.random(in: 0..<g.node.count, using: &rng)
            let names = g.node.flatMap(\.output) + ["x", "", "w1"]
            if model.graph.node[n].output.isEmpty || Bool.random(using: &rng) {
                model.graph.node[n].output.append(pick(names, &rng))
            } else {
                model.graph.node[n].output[0] = pick(names, &rng)
            }
        case 11:   // graph inputs
            if Bool.random(using: &rng) || g.input.isEmpty {
                model.graph.input.insert(ONNXBuilder.valueInfo(pick(["x", "w1", "z"], &rng), shape: [1, 3, 8, 8]), at: 0)
            } else {
                model.graph.input.removeFirst()
            }
        case 12 where !g.node.isEmpty:   // domain
            model.graph.node[Int.random(in: 0..<g.node.count, using: &rng)].domain = pick(["ai.onnx", "com.microsoft", "x"], &rng)
        default:   // shuffle the node order
            model.graph.node.shuffle(using: &rng)
        }
    }
}
