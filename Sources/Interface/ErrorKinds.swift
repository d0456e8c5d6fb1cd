// Interface errors as the command line reports them (see `DeepScopeError`).

import Support

/// No display, or a display that refused the window: a failure of the machine.
extension WindowError: DeepScopeError {
    public var errorKind: ErrorKind { .failure }
}

/// A font that cannot be loaded: a failure of the machine's installation.
extension FontError: DeepScopeError {
    public var errorKind: ErrorKind { .failure }
}
