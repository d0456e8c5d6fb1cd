import Foundation
import Testing

/// Runs the `deepscope` executable the way users and scripts do, and the Python reference tools.
enum CLI {
    /// The package root (this file is Tests/CLITests/CLIHarness.swift).
    static let root: URL = {
        if let r = ProcessInfo.processInfo.environment["DEEPSCOPE_ROOT"] { return URL(fileURLWithPath: r) }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }()

    /// The binary under test: $DEEPSCOPE_BIN (Scripts/test sets the release build), else the newest build.
    static let binary: String? = {
        if let b = ProcessInfo.processInfo.environment["DEEPSCOPE_BIN"] { return b }
        for config in ["release", "debug"] {
            let p = root.appendingPathComponent(".build/\(config)/deepscope").path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }()

    static let python = root.appendingPathComponent(".venv/bin/python").path
    static let defaultModel = root.appendingPathComponent("Assets/models/efficientnet-lite0.onnx").path

    /// Why the end-to-end tests cannot run, or nil when they can.
    static var missing: String? {
        if binary == nil { return "no deepscope binary: run `swift build` (Scripts/test does)" }
        if !FileManager.default.fileExists(atPath: defaultModel) { return "no default model: run Scripts/setup" }
        if !FileManager.default.isExecutableFile(atPath: python) { return "no .venv: run Scripts/setup" }
        return nil
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.currentDirectoryURL = root
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        // Read both pipes concurrently so a chatty child never blocks on a full pipe.
        nonisolated(unsafe) var errData = Data()
        let reader = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        while !reader.isFinished { usleep(1000) }
        return Result(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    static func deepscope(_ arguments: String...) throws -> Result { try run(binary!, arguments) }
    static func deepscope(_ arguments: [String]) throws -> Result { try run(binary!, arguments) }

    static func pythonTool(_ script: String, _ arguments: [String]) throws -> Result {
        try run(python, [root.appendingPathComponent("Tests/reference/\(script)").path] + arguments)
    }

    static func temporaryDirectory(_ name: String = #function) throws -> URL {
        let safe = name.filter { $0.isLetter || $0.isNumber }
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("deepscope-\(safe)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func json(_ line: Substring) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    /// Reads a float32 little-endian C-order .npy (format 1.0–3.0) written by NumPy or deepscope.
    static func readNPY(_ url: URL) throws -> (shape: [Int], data: [Float]) {
        let d = try Data(contentsOf: url)
        #expect(d.prefix(6) == Data([0x93] + Array("NUMPY".utf8)))
        let major = d[d.startIndex + 6]
        let headerLength: Int, start: Int
        if major == 1 {
            headerLength = Int(d[d.startIndex + 8]) | Int(d[d.startIndex + 9]) << 8
            start = 10
        } else {
            headerLength = (0..<4).reduce(0) { $0 | Int(d[d.startIndex + 8 + $1]) << (8 * $1) }
            start = 12
        }
        let header = String(decoding: d[(d.startIndex + start)..<(d.startIndex + start + headerLength)], as: UTF8.self)
        #expect(header.contains("'<f4'"), "dtype in \(url.lastPathComponent): \(header)")
        #expect(header.contains("'fortran_order': False"))
        let shapeText = header.split(separator: "(", maxSplits: 1)[1].split(separator: ")")[0]
        let shape = shapeText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let body = d[(d.startIndex + start + headerLength)...]
        let count = shape.reduce(1, *)
        #expect(body.count == count * 4, "\(url.lastPathComponent): \(body.count) bytes for \(count) floats")
        var data = [Float](repeating: 0, count: count)
        _ = data.withUnsafeMutableBytes { body.copyBytes(to: $0) }
        return (shape, data)
    }

    /// The largest difference of two arrays relative to the largest magnitude of the reference `b`
    /// (the absolute difference when `b` is all zeros).
    static func relativeError(_ a: [Float], _ b: [Float]) -> Float {
        var maxDiff: Float = 0, maxRef: Float = 0
        for i in a.indices {
            maxDiff = max(maxDiff, abs(a[i] - b[i]))
            maxRef = max(maxRef, abs(b[i]))
        }
        return maxRef > 0 ? maxDiff / maxRef : maxDiff
    }

    /// Waits up to `seconds` for a line of a child's `output` after character `offset` that contains
    /// `text`; returns it and the offset after it, or nil once the child has ended without it.
    static func waitForLine(in output: () -> String, running: () -> Bool, containing text: String,
                            after offset: Int, seconds: Double) -> (line: String, end: Int)? {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            let all = output()
            if all.count > offset {
                var consumed = offset
                for line in all.dropFirst(offset).split(separator: "\n", omittingEmptySubsequences: false) {
                    consumed += line.count + 1
                    if line.contains(text) { return (String(line), min(consumed, all.count)) }
                }
            }
            if !running() { return nil }
            usleep(20_000)
        } while Date() < deadline
        return nil
    }
}
