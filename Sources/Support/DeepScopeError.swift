// The one error protocol: every target's error type says what went wrong in one sentence and
// whose fault it is, so that the command line maps any error to stderr and an exit status in one
// place.

/// Whose fault an error is, which decides the exit status (the command line's contract).
public enum ErrorKind: Sendable, Equatable {
    /// A mistake in what the user gave: an option, a file, a model, a device path. Exit status 2.
    case badInput
    /// A failure of the machine or a device: out of memory, a full disk, a camera that stopped.
    /// Exit status 1.
    case failure

    /// The process exit status the command line reports for this kind.
    public var exitStatus: Int32 {
        switch self {
        case .badInput: return 2
        case .failure: return 1
        }
    }
}

/// An error DeepScope reports to the user.
public protocol DeepScopeError: Error, CustomStringConvertible {
    /// One sentence naming the file, node or device at fault, ready for stderr.
    var description: String { get }
    /// Bad input (exit status 2) or a failure (exit status 1).
    var errorKind: ErrorKind { get }
}

/// How the command line reports `error`: its sentence and exit status, or nil when it is not a
/// `DeepScopeError` (argument parsing errors and the like, which the caller reports itself).
public func errorReport(_ error: any Error) -> (message: String, status: Int32)? {
    guard let error = error as? any DeepScopeError else { return nil }
    return (error.description, error.errorKind.exitStatus)
}
