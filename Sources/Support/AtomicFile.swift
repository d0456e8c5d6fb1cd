// Writing a file so that it appears whole or not at all: the one way DeepScope writes files
// (PNG images, .npy tensors).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files atomically.
///
/// The rule, for every file DeepScope writes:
/// - the contents go to a new temporary file in the same folder (`.<name>.<pid>.<random>.tmp`,
///   created exclusively), which is flushed, `fsync`ed and then renamed over the target, so a
///   reader sees the old file or the complete new one, never a part;
/// - the file gets the mode of any newly created file, 0666 less the process's umask (0644 under
///   the usual umask 022), whether or not it replaces an older one;
/// - if anything fails (the folder is missing or read-only, a write, the sync, the rename, or the
///   caller's own writer throws), the temporary file is removed and the target is left as it was.
public enum AtomicFile {
    /// Mode bits asked for when creating the file; the umask is applied by the kernel.
    public static let creationMode: mode_t = 0o666

    /// Writes `path` through `body`, atomically (see `AtomicFile`).
    ///
    /// - Parameters:
    ///   - path: the file to create or replace.
    ///   - failure: turns the reason for a failure of the machine (a clause such as "the directory
    ///     /x does not exist") into the caller's error, which should name `path`.
    ///   - body: writes the contents to the open stream; it must not close it. Whatever it throws
    ///     is rethrown as it is, after the temporary file is removed.
    public static func write<E: Error>(_ path: String, failure: (String) -> E,
                                       _ body: (_ stream: UnsafeMutablePointer<FILE>) throws(E) -> Void) throws(E) {
        let (directory, base) = split(path)
        guard !base.isEmpty else { throw failure("the path names a directory") }

        let prefix = path.contains("/") ? (directory == "/" ? "/" : directory + "/") : ""
        var temporary = ""
        var descriptor: Int32 = -1
        for attempt in 0..<64 {
            let tag = String(UInt64.random(in: 0...UInt64.max), radix: 36)
            temporary = prefix + ".\(base).\(getpid()).\(tag).tmp"
            descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, creationMode)
            if descriptor >= 0 { break }
            let code = errno
            if code == EEXIST && attempt < 63 { continue }
            if code == ENOENT || code == ENOTDIR {
                throw failure("the directory \(directory) does not exist")
            }
            throw failure("cannot create a file in \(directory): \(errnoReason(code))")
        }

        guard let stream = fdopen(descriptor, "wb") else {
            let code = errno
            close(descriptor)
            unlink(temporary)
            throw failure(errnoReason(code))
        }

        do {
            try body(stream)
        } catch {
            fclose(stream)
            unlink(temporary)
            throw error
        }

        var code: Int32 = 0
        if fflush(stream) != 0 || ferror(stream) != 0 { code = errno == 0 ? EIO : errno }
        // EINVAL: a file system that cannot sync (a pipe, some special files); nothing to wait for.
        if code == 0 && fsync(fileno(stream)) != 0 && errno != EINVAL { code = errno }
        if fclose(stream) != 0 && code == 0 { code = errno == 0 ? EIO : errno }
        if code == 0 && rename(temporary, path) != 0 { code = errno }
        if code != 0 {
            unlink(temporary)
            throw failure(errnoReason(code))
        }
    }

    /// Writes `parts`, one after the other, as the contents of `path`, atomically.
    public static func write<E: Error>(_ path: String, bytes parts: [UnsafeRawBufferPointer],
                                       failure: (String) -> E) throws(E) {
        try write(path, failure: failure) { (stream) throws(E) in
            for part in parts where part.count > 0 {
                if fwrite(part.baseAddress!, 1, part.count, stream) != part.count {
                    throw failure("the write failed: \(errnoReason(errno == 0 ? EIO : errno))")
                }
            }
        }
    }

    /// Splits a path into its directory ("." when there is none) and last component.
    public static func split(_ path: String) -> (directory: String, base: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }
}
