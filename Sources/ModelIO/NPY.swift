import Foundation
import Support

/// NumPy `.npy` files of little-endian float32 in C order: the only kind DeepScope reads and writes.
///
/// Reading accepts format versions 1.0, 2.0 and 3.0; writing produces 1.0 (2.0 only when the header
/// would not fit), with the header padded to a multiple of 64 bytes as NumPy does.
public enum NPY {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]   // "\x93NUMPY"

    /// Reads a `.npy` file. Throws `ModelError.invalidNPY` naming the file for anything else than
    /// `'<f4'` data in C order, or when the data is shorter or longer than its shape says.
    public static func read(path: String) throws -> (shape: [Int], data: [Float]) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelError.fileNotFound(path: path)
        }
        guard !isDirectory.boolValue else { throw ModelError.unreadable(path: path, reason: "it is a directory") }
        let bytes: Data
        do { bytes = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw ModelError.unreadable(path: path, reason: error.localizedDescription)
        }
        return try decode(bytes, path: path)
    }

    /// Decodes the bytes of a `.npy` file; `path` names it in errors.
    public static func decode(_ bytes: Data, path: String) throws -> (shape: [Int], data: [Float]) {
        func fail(_ reason: String) -> ModelError { .invalidNPY(path: path, reason: reason) }
        return try bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> (shape: [Int], data: [Float]) in
            guard raw.count >= 10, Array(raw[0..<6]) == magic else {
                throw fail("not a NumPy .npy file (no \\x93NUMPY signature)")
            }
            let major = raw[6], minor = raw[7]
            let headerLength: Int, headerStart: Int
            switch major {
            case 1:
                headerLength = Int(raw[8]) | Int(raw[9]) << 8
                headerStart = 10
            case 2, 3:
                guard raw.count >= 12 else { throw fail("the file is truncated inside its header") }
                headerLength = Int(raw[8]) | Int(raw[9]) << 8 | Int(raw[10]) << 16 | Int(raw[11]) << 24
                headerStart = 12
            default:
                throw fail("NumPy format version \(major).\(minor) is not supported (only 1.0, 2.0 and 3.0)")
            }
            guard headerLength <= raw.count - headerStart else { throw fail("the file is truncated inside its header") }
            let headerBytes = UnsafeRawBufferPointer(rebasing: raw[headerStart..<(headerStart + headerLength)])
            guard let header = String(bytes: headerBytes, encoding: major == 3 ? .utf8 : .isoLatin1) else {
                throw fail("the header is not text")
            }
            let fields = try parseHeader(header, fail: fail)
            guard fields.descr == "<f4" else {
                throw fail("has dtype '\(fields.descr)'; DeepScope reads only little-endian float32 ('<f4')")
            }
            guard !fields.fortranOrder else {
                throw fail("is in Fortran order; DeepScope reads only C order (fortran_order False)")
            }
            guard let count = checkedCount(fields.shape) else {
                throw fail("shape \(fields.shape) is negative or exceeds \(ModelLimits.maxElements) elements")
            }
            let dataStart = headerStart + headerLength
            let available = raw.count - dataStart
            guard available >= count * 4 else {
                throw fail("the data is truncated: shape \(fields.shape) needs \(count * 4) bytes, the file has \(available)")
            }
            guard available == count * 4 else {
                throw fail("has \(available - count * 4) bytes after the data that shape \(fields.shape) describes")
            }
            let data = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                for i in 0..<count {
                    buffer[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: dataStart + i * 4, as: UInt32.self)))
                }
                initialized = count
            }
            return (fields.shape, data)
        }
    }

    /// Parses the header dictionary: `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
    static func parseHeader(_ text: String, fail: (String) -> ModelError) throws -> (descr: String, fortranOrder: Bool, shape: [Int]) {
        var scanner = HeaderScanner(Array(text.utf8))
        var descr: String? = nil, fortran: Bool? = nil, shape: [Int]? = nil
        guard scanner.consume("{") else { throw fail("the header is not a Python dictionary") }
        while true {
            if scanner.consume("}") { break }
            guard let key = scanner.quoted() else { throw fail("the header is malformed") }
            guard scanner.consume(":") else { throw fail("the header is malformed after '\(key)'") }
            switch key {
            case "descr":
                guard let v = scanner.quoted() else { throw fail("the header's 'descr' is not a string (structured dtypes are not supported)") }
                descr = v
            case "fortran_order":
                if scanner.consumeWord("True") { fortran = true }
                else if scanner.consumeWord("False") { fortran = false }
                else { throw fail("the header's 'fortran_order' is not True or False") }
            case "shape":
                guard scanner.consume("(") else { throw fail("the header's 'shape' is not a tuple") }
                var dims: [Int] = []
                while !scanner.consume(")") {
                    guard let d = scanner.integer(), dims.count < ModelLimits.maxRank else {
                        throw fail("the header's 'shape' is not a tuple of integers")
                    }
                    dims.append(d)
                    if !scanner.consume(",") {
                        guard scanner.consume(")") else { throw fail("the header's 'shape' is not a tuple of integers") }
                        break
                    }
                }
                shape = dims
            default:
                throw fail("the header has an unknown key '\(key)'")
            }
            if !scanner.consume(",") {
                guard scanner.consume("}") else { throw fail("the header is malformed") }
                break
            }
        }
        guard let descr, let fortran, let shape else {
            throw fail("the header lacks 'descr', 'fortran_order' or 'shape'")
        }
        return (descr, fortran, shape)
    }

    /// Writes `data` with `shape` as a NumPy 1.0 file, atomically: the bytes go to a temporary file
    /// in the same folder, which is renamed over `path` only once complete, so a partial file is
    /// never left behind. Throws `ModelError.cannotWrite` naming the file.
    public static func write(path: String, shape: [Int], data: UnsafeBufferPointer<Float>) throws {
        guard let count = checkedCount(shape, limit: Int.max / 8), count == data.count else {
            throw ModelError.cannotWrite(path: path, reason: "shape \(shape) does not describe \(data.count) values")
        }
        let header = encodeHeader(shape: shape)
        #if _endian(little)
        // The file's payload is the buffer's own bytes: write them without a copy.
        try header.withUnsafeBytes { h in
            try atomicWrite([h, UnsafeRawBufferPointer(data)], to: path)
        }
        #else
        var payload = [UInt8](repeating: 0, count: count * 4)
        payload.withUnsafeMutableBytes { raw in
            for (i, v) in data.enumerated() { raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self) }
        }
        try header.withUnsafeBytes { h in
            try payload.withUnsafeBytes { p in try atomicWrite([h, p], to: path) }
        }
        #endif
    }

    /// Convenience for arrays.
    public static func write(path: String, shape: [Int], data: [Float]) throws {
        try data.withUnsafeBufferPointer { try write(path: path, shape: shape, data: $0) }
    }

    /// Magic, version, header length and header, padded with spaces (and a final newline) to a
    /// multiple of 64 bytes.
    static func encodeHeader(shape: [Int]) -> [UInt8] {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        let dict = Array("{'descr': '<f4', 'fortran_order': False, 'shape': \(dims), }".utf8)
        var prefixCount = 10
        var major: UInt8 = 1
        var total = (prefixCount + dict.count + 1 + 63) / 64 * 64
        if total - prefixCount > 0xFFFF {
            major = 2
            prefixCount = 12
            total = (prefixCount + dict.count + 1 + 63) / 64 * 64
        }
        let headerLength = total - prefixCount
        var out = magic + [major, 0]
        out.append(UInt8(headerLength & 0xFF))
        out.append(UInt8((headerLength >> 8) & 0xFF))
        if major == 2 {
            out.append(UInt8((headerLength >> 16) & 0xFF))
            out.append(UInt8((headerLength >> 24) & 0xFF))
        }
        out += dict
        out += [UInt8](repeating: 0x20, count: headerLength - dict.count - 1)
        out.append(0x0A)
        return out
    }

    /// Writes `parts` as the file at `path` by the rule of `AtomicFile` (whole or not at all).
    static func atomicWrite(_ parts: [UnsafeRawBufferPointer], to path: String) throws(ModelError) {
        try AtomicFile.write(path, bytes: parts, failure: { ModelError.cannotWrite(path: path, reason: $0) })
    }
}

/// A tiny scanner for the Python literal in an .npy header.
private struct HeaderScanner {
    var bytes: [UInt8]
    var i = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x09 || bytes[i] == 0x0D { i += 1 }
    }

    mutating func consume(_ c: Character) -> Bool {
        skipSpace()
        guard i < bytes.count, bytes[i] == c.asciiValue! else { return false }
        i += 1
        return true
    }

    mutating func consumeWord(_ word: String) -> Bool {
        skipSpace()
        let w = Array(word.utf8)
        guard i + w.count <= bytes.count, Array(bytes[i..<(i + w.count)]) == w else { return false }
        i += w.count
        return true
    }

    mutating func quoted() -> String? {
        skipSpace()
        guard i < bytes.count, bytes[i] == 0x27 || bytes[i] == 0x22 else { return nil }
        let quote = bytes[i]
        var j = i + 1
        while j < bytes.count, bytes[j] != quote { j += 1 }
        guard j < bytes.count else { return nil }
        let s = String(decoding: bytes[(i + 1)..<j], as: UTF8.self)
        i = j + 1
        return s
    }

    mutating func integer() -> Int? {
        skipSpace()
        var j = i
        if j < bytes.count, bytes[j] == 0x2D { j += 1 }
        let digitsStart = j
        while j < bytes.count, bytes[j] >= 0x30 && bytes[j] <= 0x39, j - digitsStart < 18 { j += 1 }
        guard j > digitsStart else { return nil }
        // Python 2 era files may write longs as "3L".
        let value = Int(String(decoding: bytes[i..<j], as: UTF8.self))
        i = j
        if i < bytes.count, bytes[i] == 0x4C { i += 1 }
        return value
    }
}
