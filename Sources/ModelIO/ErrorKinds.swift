// ModelIO errors as the command line reports them (see `DeepScopeError`).

import Support

/// A model, sidecar, label or tensor file that cannot be used is bad input; a file that cannot be
/// written is a failure of the machine.
extension ModelError: DeepScopeError {
    public var errorKind: ErrorKind {
        if case .cannotWrite = self { return .failure }
        return .badInput
    }
}
