// The names and messages of errno values, for error sentences and logs.

#if canImport(Glibc)
import Glibc
#endif

/// The symbolic name of an errno value, such as `ENODEV`, or `errno N` for others.
public func errnoName(_ code: Int32) -> String {
    switch code {
    case EPERM: return "EPERM"
    case ENOENT: return "ENOENT"
    case EINTR: return "EINTR"
    case EIO: return "EIO"
    case ENXIO: return "ENXIO"
    case EBADF: return "EBADF"
    case EAGAIN: return "EAGAIN"
    case ENOMEM: return "ENOMEM"
    case EACCES: return "EACCES"
    case EFAULT: return "EFAULT"
    case EBUSY: return "EBUSY"
    case ENODEV: return "ENODEV"
    case ENOTDIR: return "ENOTDIR"
    case EISDIR: return "EISDIR"
    case EINVAL: return "EINVAL"
    case ENOTTY: return "ENOTTY"
    case ENOSPC: return "ENOSPC"
    case EPIPE: return "EPIPE"
    case ERANGE: return "ERANGE"
    case ETIMEDOUT: return "ETIMEDOUT"
    case EPROTO: return "EPROTO"
    case ENOSYS: return "ENOSYS"
    default: return "errno \(code)"
    }
}

/// `strerror` as a Swift string.
public func errnoMessage(_ code: Int32) -> String {
    String(cString: strerror(code))
}

/// `strerror` as a clause to follow a colon: "no such file or directory".
public func errnoReason(_ code: Int32) -> String {
    let text = errnoMessage(code)
    guard let first = text.first else { return "error \(code)" }
    return first.lowercased() + text.dropFirst()
}
