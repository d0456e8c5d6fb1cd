import Foundation
import ModelIO
import Testing

@Suite struct NPYTests {
    /// An .npy file written byte by byte: version, header text (padded to a multiple of 64 with
    /// spaces and a newline) and payload.
    func npy(major: UInt8 = 1, header: String, payload: [UInt8]) -> Data {
        let prefix = major == 1 ? 10 : 12
        let text = Array(header.utf8)
        let total = (prefix + text.count + 1 + 63) / 64 * 64
        let length = total - prefix
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [major, 0, UInt8(length & 0xFF), UInt8(length >> 8)]
        if major != 1 { out += [0, 0] }
        out += text + [UInt8](repeating: 0x20, count: length - text.count - 1) + [0x0A]
        return Data(out + payload)
    }

    func littleEndian(_ values: [Float]) -> [UInt8] {
        values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
    }

    func write(_ data: Data, _ name: String = "t.npy") throws -> (URL, String) {
        let dir = try temporaryFolder()
        let path = dir.appendingPathComponent(name).path
        try data.write(to: URL(fileURLWithPath: path))
        return (dir, path)
    }

    @Test func roundTrip() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        for shape in [[2, 3, 4], [5], [], [1, 3, 7, 7], [0, 4]] {
            let count = shape.reduce(1, *)
            let values = (0..<count).map { Float($0) * 0.25 - 3 }
            let path = dir.appendingPathComponent("a.npy").path
            try NPY.write(path: path, shape: shape, data: values)
            let back = try NPY.read(path: path)
            #expect(back.shape == shape)
            #expect(back.data == values)
        }
        // Special values survive bit for bit.
        let path = dir.appendingPathComponent("special.npy").path
        let special: [Float] = [.infinity, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        try NPY.write(path: path, shape: [5], data: special)
        #expect(try NPY.read(path: path).data.map(\.bitPattern) == special.map(\.bitPattern))
    }

    @Test func writtenHeaderIsNumPyFormat1() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("h.npy").path
        try NPY.write(path: path, shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(Array(bytes[0..<8]) == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        let header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
        #expect(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"))
        #expect(header.hasSuffix("\n"))
        #expect(bytes.count == 10 + headerLength + 24)
        #expect(Array(bytes[(10 + headerLength)...]) == littleEndian([1, 2, 3, 4, 5, 6]))

        try NPY.write(path: path, shape: [3], data: [1, 2, 3])
        let one = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
        #expect(one.contains("'shape': (3,)"))
    }

    @Test func readsVersions2And3AndOtherKeyOrders() throws {
        for major: UInt8 in [1, 2, 3] {
            let data = npy(major: major, header: "{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}",
                           payload: littleEndian([1.5, -2]))
            let (dir, path) = try write(data)
            defer { try? FileManager.default.removeItem(at: dir) }
            let r = try NPY.read(path: path)
            #expect(r.shape == [2] && r.data == [1.5, -2])
        }
        let scalar = npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", payload: littleEndian([7]))
        let (dir, path) = try write(scalar)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try NPY.read(path: path).shape == [])
    }

    @Test func errors() throws {
        let cases: [(Data, String)] = [
            (npy(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", payload: [UInt8](repeating: 0, count: 16)),
             "has dtype '<f8'; DeepScope reads only little-endian float32 ('<f4')"),
            (npy(header: "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", payload: [UInt8](repeating: 0, count: 8)),
             "has dtype '>f4'"),
            (npy(header: "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", payload: [UInt8](repeating: 0, count: 16)),
             "has dtype '<i8'"),
            (npy(header: "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", payload: [UInt8](repeating: 0, count: 16)),
             "is in Fortran order"),
            (npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", payload: littleEndian([1, 2, 3, 4, 5])),
             "the data is truncated: shape [2, 3] needs 24 bytes, the file has 20"),
            (npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", payload: littleEndian([1, 2, 3])),
             "has 4 bytes after the data"),
            (npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", payload: []),
             "is negative or exceeds"),
            (npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", payload: []),
             "is negative or exceeds"),
            (npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }", payload: []),
             "not a tuple of integers"),
            (npy(header: "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", payload: []),
             "structured dtypes"),
            (npy(header: "{'descr': '<f4', 'shape': (2,), }", payload: littleEndian([1, 2])),
             "lacks 'descr', 'fortran_order' or 'shape'"),
            (npy(header: "not a dict", payload: []), "not a Python dictionary"),
            (npy(major: 4, header: "{}", payload: []), "version 4.0 is not supported"),
            (Data("PK\u{3}\u{4} zip file, not npy".utf8), "not a NumPy .npy file"),
            (Data([0x93] + Array("NUMPY".utf8) + [1, 0, 0xFF, 0x00]) + Data("{'descr'".utf8), "truncated inside its header"),
            (Data(), "not a NumPy .npy file"),
        ]
        for (data, message) in cases {
            let (dir, path) = try write(data)
            defer { try? FileManager.default.removeItem(at: dir) }
            let e = modelError { try NPY.read(path: path) }
            #expect(e.hasPrefix(path + ": ") && e.contains(message), "expected '\(message)', got '\(e)'")
        }
        #expect(modelError { try NPY.read(path: "/nonexistent/x.npy") } == "/nonexistent/x.npy: no such file.")
    }

    @Test func writeIsAtomic() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("out.npy").path
        try NPY.write(path: path, shape: [2], data: [1, 2])
        try NPY.write(path: path, shape: [3], data: [4, 5, 6])
        #expect(try NPY.read(path: path).data == [4, 5, 6])
        // No temporary file is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.npy"])

        // A shape that does not match the data: an error, and the old file is untouched.
        #expect(modelError { try NPY.write(path: path, shape: [2, 2], data: [1, 2, 3]) }.contains("does not describe 3 values"))
        #expect(try NPY.read(path: path).data == [4, 5, 6])
        let fresh = dir.appendingPathComponent("fresh.npy").path
        _ = modelError { try NPY.write(path: fresh, shape: [-1], data: [1]) }
        #expect(!FileManager.default.fileExists(atPath: fresh))

        // A folder that does not exist: a clear error naming the file, nothing written.
        let nowhere = dir.appendingPathComponent("missing/out.npy").path
        #expect(modelError { try NPY.write(path: nowhere, shape: [1], data: [1]) }.hasPrefix(nowhere + ": cannot be written"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.npy"])
    }

    @Test func writtenFileIsReadableByOthers() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("perm.npy").path
        try NPY.write(path: path, shape: [1], data: [1])
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o644)
    }
}
