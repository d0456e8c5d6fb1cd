// Imaging errors as the command line reports them (see `DeepScopeError`).

import Support

/// An image that cannot be read is bad input; one that cannot be written is a failure.
extension ImageError: DeepScopeError {
    public var errorKind: ErrorKind {
        if case .writeFailed = self { return .failure }
        return .badInput
    }
}
