import Foundation
import Engine

/// A reason a node cannot be imported; the importer adds the file, the node and its op.
struct NodeFailure: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

/// A tensor whose value is known at load time: an initializer, the output of a Constant node, or
/// what the constant folder computed (`Engine.HostTensor`).
typealias ConstantTensor = HostTensor

extension HostTensor {
    /// The values as integers; float tensors are refused (shapes and pads must be INT64).
    func integers(_ what: String) throws -> [Int64] {
        guard isInteger else { throw NodeFailure("\(what) must be an INT64 tensor, not FLOAT") }
        return int64s
    }

    /// The values as floats; integer tensors are refused.
    func floatValues(_ what: String) throws -> [Float] {
        guard !isInteger else { throw NodeFailure("\(what) must be a FLOAT tensor, not INT64") }
        return floats
    }
}

enum TensorDecoder {
    static func typeName(_ raw: Int32) -> String {
        let names = ["UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING",
                     "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16",
                     "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4",
                     "FLOAT4E2M1", "FLOAT8E8M0", "UINT2", "INT2", "FLOAT6E2M3", "FLOAT6E3M2"]
        return raw >= 0 && Int(raw) < names.count ? names[Int(raw)] : "type \(raw)"
    }

    /// Decodes a FLOAT or INT64 tensor after checking its dimensions and data length, so nothing is
    /// allocated for a tensor whose header lies about its size. `what` names it in errors.
    static func decode(_ t: Onnx_TensorProto, what: String) throws -> ConstantTensor {
        guard t.dataLocation != .external else {
            throw NodeFailure("\(what) keeps its data in an external file, which DeepScope does not read")
        }
        guard t.dims.count <= ModelLimits.maxRank else {
            throw NodeFailure("\(what) has rank \(t.dims.count), more than \(ModelLimits.maxRank)")
        }
        guard let count = checkedCount(t.dims) else {
            throw NodeFailure("\(what) has dimensions \(t.dims.map(String.init).joined(separator: "×")), "
                              + "which are negative or exceed \(ModelLimits.maxElements) elements")
        }
        let dims = t.dims.map { Int($0) }
        let shape = Shape(dims).description
        switch t.dataType {
        case Int32(Onnx_TensorProto.DataType.float.rawValue):
            if !t.rawData.isEmpty {
                guard t.rawData.count == count * 4 else {
                    throw NodeFailure("\(what) has \(t.rawData.count) bytes of raw data, but shape \(shape) needs \(count * 4)")
                }
                return ConstantTensor(dims: dims, storage: .float(floatsFromLittleEndian(t.rawData, count: count)))
            }
            guard t.floatData.count == count else {
                throw NodeFailure("\(what) has \(t.floatData.count) values, but shape \(shape) needs \(count)")
            }
            return ConstantTensor(dims: dims, storage: .float(t.floatData))
        case Int32(Onnx_TensorProto.DataType.int64.rawValue):
            if !t.rawData.isEmpty {
                guard t.rawData.count == count * 8 else {
                    throw NodeFailure("\(what) has \(t.rawData.count) bytes of raw data, but shape \(shape) needs \(count * 8)")
                }
                return ConstantTensor(dims: dims, storage: .int64(int64sFromLittleEndian(t.rawData, count: count)))
            }
            guard t.int64Data.count == count else {
                throw NodeFailure("\(what) has \(t.int64Data.count) values, but shape \(shape) needs \(count)")
            }
            return ConstantTensor(dims: dims, storage: .int64(t.int64Data))
        case Int32(Onnx_TensorProto.DataType.int32.rawValue), Int32(Onnx_TensorProto.DataType.int8.rawValue),
             Int32(Onnx_TensorProto.DataType.uint8.rawValue), Int32(Onnx_TensorProto.DataType.int16.rawValue),
             Int32(Onnx_TensorProto.DataType.uint16.rawValue), Int32(Onnx_TensorProto.DataType.bool.rawValue):
            // Small integers and booleans (shape arithmetic, masks) are kept as INT64.
            let width = [2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 9: 1][Int(t.dataType)]!
            if !t.rawData.isEmpty {
                guard t.rawData.count == count * width else {
                    throw NodeFailure("\(what) has \(t.rawData.count) bytes of raw data, but shape \(shape) needs \(count * width)")
                }
                let signed = t.dataType != 2 && t.dataType != 4 && t.dataType != 9
                let values: [Int64] = t.rawData.withUnsafeBytes { raw in
                    (0..<count).map { i in
                        var v: UInt64 = 0
                        for k in 0..<width { v |= UInt64(raw[i * width + k]) << (8 * UInt64(k)) }
                        let shift = UInt64(64 - 8 * width)
                        return signed ? Int64(bitPattern: v << shift) >> Int64(shift) : Int64(v)
                    }
                }
                return ConstantTensor(dims: dims, storage: .int64(values))
            }
            guard t.int32Data.count == count else {
                throw NodeFailure("\(what) has \(t.int32Data.count) values, but shape \(shape) needs \(count)")
            }
            return ConstantTensor(dims: dims, storage: .int64(t.int32Data.map { Int64($0) }))
        default:
            throw NodeFailure("\(what) has data type \(typeName(t.dataType)); DeepScope reads only FLOAT and INT64 tensors (and integer or BOOL ones, kept as INT64)")
        }
    }

    static func floatsFromLittleEndian(_ data: Data, count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            data.withUnsafeBytes { raw in
                #if _endian(little)
                if count > 0 { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<count * 4])) }
                #else
                for i in 0..<count {
                    buffer[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
                }
                #endif
            }
            initialized = count
        }
    }

    static func int64sFromLittleEndian(_ data: Data, count: Int) -> [Int64] {
        [Int64](unsafeUninitializedCapacity: count) { buffer, initialized in
            data.withUnsafeBytes { raw in
                for i in 0..<count {
                    buffer[i] = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self))
                }
            }
            initialized = count
        }
    }
}

/// A node's attributes by name, with typed accessors that refuse values of the wrong kind.
struct Attributes {
    private var map: [String: Onnx_AttributeProto] = [:]

    init(_ list: [Onnx_AttributeProto]) {
        for a in list where map[a.name] == nil { map[a.name] = a }
    }

    func has(_ name: String) -> Bool { map[name] != nil }

    private func kindMismatch(_ name: String, _ expected: String) -> NodeFailure {
        NodeFailure("attribute '\(name)' must be \(expected)")
    }

    func int(_ name: String) throws -> Int? {
        guard let a = map[name] else { return nil }
        guard a.type == .int || (a.type == .undefined && a.hasI) else { throw kindMismatch(name, "an integer") }
        return Int(a.i)
    }

    func int(_ name: String, default value: Int) throws -> Int { try int(name) ?? value }

    func ints(_ name: String) throws -> [Int]? {
        guard let a = map[name] else { return nil }
        guard a.type == .ints || (a.type == .undefined && !a.ints.isEmpty) else {
            throw kindMismatch(name, "a list of integers")
        }
        guard a.ints.count <= 4 * ModelLimits.maxRank else { throw NodeFailure("attribute '\(name)' has \(a.ints.count) values") }
        return a.ints.map { Int($0) }
    }

    func float(_ name: String) throws -> Float? {
        guard let a = map[name] else { return nil }
        if a.type == .float || (a.type == .undefined && a.hasF) { return a.f }
        // Some exporters write integral floats as ints.
        if a.type == .int { return Float(a.i) }
        throw kindMismatch(name, "a float")
    }

    func float(_ name: String, default value: Float) throws -> Float { try float(name) ?? value }

    func floats(_ name: String) throws -> [Float]? {
        guard let a = map[name] else { return nil }
        guard a.type == .floats || (a.type == .undefined && !a.floats.isEmpty) else {
            throw kindMismatch(name, "a list of floats")
        }
        return a.floats
    }

    func string(_ name: String) throws -> String? {
        guard let a = map[name] else { return nil }
        guard a.type == .string || (a.type == .undefined && a.hasS) else { throw kindMismatch(name, "a string") }
        guard let s = String(data: a.s, encoding: .utf8) else { throw kindMismatch(name, "a UTF-8 string") }
        return s
    }

    func tensor(_ name: String) throws -> Onnx_TensorProto? {
        guard let a = map[name] else { return nil }
        guard a.type == .tensor || (a.type == .undefined && a.hasT) else { throw kindMismatch(name, "a tensor") }
        return a.t
    }
}
