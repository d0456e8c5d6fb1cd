import Foundation
import Support
import Testing

/// A fresh folder under the temporary directory, removed by `remove()`.
private struct Scratch {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "deepscope-atomic-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }
    var entries: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }
    func contents(_ name: String) -> String? { try? String(contentsOfFile: file(name), encoding: .utf8) }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// The test's error: the reason the writer gave, or the body's own stop.
private enum WriteError: Error, Equatable {
    case machine(String)
    case stoppedHalfway
}

private func write(_ path: String, _ text: String) throws(WriteError) {
    try AtomicFile.write(path, failure: { WriteError.machine($0) }) { (stream) throws(WriteError) in
        _ = fputs(text, stream)
    }
}

/// The process's umask, read without changing it (tests run concurrently in one process).
private func currentUmask() -> mode_t? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Umask:") }) else { return nil }
    return mode_t(line.dropFirst(6).trimmingCharacters(in: .whitespaces), radix: 8)
}

@Suite("AtomicFile")
struct AtomicFileTests {
    @Test("a new file appears whole, with the mode of any new file, and nothing else is left")
    func writesWholeFile() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        try write(scratch.file("a.txt"), "first")
        try write(scratch.file("a.txt"), "second, longer")
        #expect(scratch.contents("a.txt") == "second, longer")
        #expect(scratch.entries == ["a.txt"])
        var info = stat()
        #expect(stat(scratch.file("a.txt"), &info) == 0)
        let mask = try #require(currentUmask())
        #expect(info.st_mode & 0o777 == AtomicFile.creationMode & ~mask)
        #expect(AtomicFile.creationMode == 0o666)
    }

    @Test("the byte-parts writer concatenates its parts")
    func writesParts() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let head: [UInt8] = Array("head:".utf8), empty: [UInt8] = [], tail: [UInt8] = Array("tail".utf8)
        try head.withUnsafeBytes { h in
            try empty.withUnsafeBytes { e in
                try tail.withUnsafeBytes { t in
                    try AtomicFile.write(scratch.file("p.bin"), bytes: [h, e, t], failure: { WriteError.machine($0) })
                }
            }
        }
        #expect(scratch.contents("p.bin") == "head:tail")
        #expect(scratch.entries == ["p.bin"])
    }

    @Test("a writer that throws midway leaves the old file as it was and no temporary file")
    func throwingBodyKeepsOldFile() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        try write(scratch.file("keep.txt"), "original")
        var thrown: WriteError?
        do {
            try AtomicFile.write(scratch.file("keep.txt"), failure: { WriteError.machine($0) }) { (stream) throws(WriteError) in
                _ = fputs("half a fi", stream)
                fflush(stream)
                throw .stoppedHalfway
            }
        } catch { thrown = error }
        #expect(thrown == .stoppedHalfway, "the body's own error comes back unchanged")
        #expect(scratch.contents("keep.txt") == "original")
        #expect(scratch.entries == ["keep.txt"])

        // The same for a file that did not exist: it still does not.
        thrown = nil
        do {
            try AtomicFile.write(scratch.file("new.txt"), failure: { WriteError.machine($0) }) { (_) throws(WriteError) in
                throw .stoppedHalfway
            }
        } catch { thrown = error }
        #expect(thrown == .stoppedHalfway)
        #expect(scratch.entries == ["keep.txt"])
    }

    @Test("a folder that is missing or cannot be written: one reason naming it, nothing written")
    func unwritableFolders() {
        let scratch = Scratch()
        defer { scratch.remove() }
        var thrown: WriteError?
        do { try write(scratch.file("missing/out.txt"), "x") } catch { thrown = error }
        #expect(thrown == .machine("the directory \(scratch.file("missing")) does not exist"))
        #expect(scratch.entries.isEmpty)

        // sysfs refuses new files even to root.
        thrown = nil
        do { try write("/sys/deepscope-atomic-test.txt", "x") } catch { thrown = error }
        guard case .machine(let reason) = thrown else {
            Issue.record("writing into /sys did not fail: \(String(describing: thrown))")
            return
        }
        #expect(reason.hasPrefix("cannot create a file in /sys: "))
        #expect(!FileManager.default.fileExists(atPath: "/sys/deepscope-atomic-test.txt"))
    }

    @Test("a failed rename (the target is a folder) removes the temporary file")
    func renameFailure() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        try FileManager.default.createDirectory(atPath: scratch.file("taken"), withIntermediateDirectories: false)
        var thrown: WriteError?
        do { try write(scratch.file("taken"), "x") } catch { thrown = error }
        guard case .machine(let reason) = thrown else {
            Issue.record("renaming over a folder did not fail")
            return
        }
        #expect(reason == errnoReason(EISDIR))
        #expect(scratch.entries == ["taken"])
        #expect((try? FileManager.default.contentsOfDirectory(atPath: scratch.file("taken")))?.isEmpty == true)
    }

    @Test("a path that names a folder is refused before anything is created")
    func pathNamesAFolder() {
        var thrown: WriteError?
        do { try write("/tmp/", "x") } catch { thrown = error }
        #expect(thrown == .machine("the path names a directory"))
    }
}
