// Writing a file so that it appears whole or not at all.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes `path` atomically: `body` writes a temporary file in the same directory, which is flushed,
/// synced and then renamed over `path`. If anything fails (including `body` throwing), the temporary
/// file is removed and `path` is left as it was: never half-written.
///
/// - Parameters:
///   - path: the file to create or replace.
///   - body: writes the contents to the open stream; it must not close it.
/// - Throws: `ImageError.writeFailed` naming `path`, or whatever `body` throws.
public func writeFileAtomically(_ path: String,
                                _ body: (_ stream: UnsafeMutablePointer<FILE>) throws(ImageError) -> Void) throws(ImageError) {
    let (directory, base) = splitPath(path)
    guard !base.isEmpty else { throw .writeFailed(path: path, reason: "the path names a directory") }

    // Create the temporary file exclusively; the umask applies to its mode as to any new file.
    let prefix = path.contains("/") ? (directory == "/" ? "/" : directory + "/") : ""
    var temporary = ""
    var descriptor: Int32 = -1
    for attempt in 0..<64 {
        let tag = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        temporary = prefix + ".\(base).\(getpid()).\(tag).tmp"
        descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        if descriptor >= 0 { break }
        let code = errno
        if code == EEXIST && attempt < 63 { continue }
        if code == ENOENT || code == ENOTDIR {
            throw .writeFailed(path: path, reason: "the directory \(directory) does not exist")
        }
        throw .writeFailed(path: path, reason: "cannot create a file in \(directory): \(systemMessage(code))")
    }

    guard let stream = fdopen(descriptor, "wb") else {
        let code = errno
        close(descriptor)
        unlink(temporary)
        throw .writeFailed(path: path, reason: systemMessage(code))
    }

    do {
        try body(stream)
    } catch {
        fclose(stream)
        unlink(temporary)
        throw error
    }

    var failure: Int32 = 0
    if fflush(stream) != 0 || ferror(stream) != 0 { failure = errno == 0 ? EIO : errno }
    if failure == 0 && fsync(fileno(stream)) != 0 && errno != EINVAL { failure = errno }
    if fclose(stream) != 0 && failure == 0 { failure = errno == 0 ? EIO : errno }
    if failure == 0 && rename(temporary, path) != 0 { failure = errno }
    if failure != 0 {
        unlink(temporary)
        throw .writeFailed(path: path, reason: systemMessage(failure))
    }
}

/// Splits a path into its directory ("." when there is none) and last component.
func splitPath(_ path: String) -> (directory: String, base: String) {
    guard let slash = path.lastIndex(of: "/") else { return (".", path) }
    let directory = String(path[..<slash])
    return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
}
