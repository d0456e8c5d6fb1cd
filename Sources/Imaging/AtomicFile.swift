// Writing an image file so that it appears whole or not at all.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Support

/// Writes `path` atomically, by the rule of `AtomicFile` (a temporary file in the same folder,
/// synced, then renamed; mode 0666 less the umask; nothing left behind on failure).
///
/// - Parameters:
///   - path: the file to create or replace.
///   - body: writes the contents to the open stream; it must not close it.
/// - Throws: `ImageError.writeFailed` naming `path`, or whatever `body` throws.
public func writeFileAtomically(_ path: String,
                                _ body: (_ stream: UnsafeMutablePointer<FILE>) throws(ImageError) -> Void) throws(ImageError) {
    try AtomicFile.write(path, failure: { ImageError.writeFailed(path: path, reason: $0) }, body)
}
