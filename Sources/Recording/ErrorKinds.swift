// Recording errors as the command line reports them (see `DeepScopeError`).

import Support

/// A destination that cannot take a recording is bad input; an encoder or disk that fails is not.
extension RecordingError: DeepScopeError {
    public var errorKind: ErrorKind { isBadInput ? .badInput : .failure }
}
