// Daemon errors as the command line reports them (see `DeepScopeError`).

import Support

/// A model whose input or output the pipeline cannot use: a problem of the model given.
extension PipelineError: DeepScopeError {
    public var errorKind: ErrorKind { .badInput }
}

/// A session that could not start or stopped on an error says whose fault it was.
extension SessionError: DeepScopeError {
    public var errorKind: ErrorKind { isBadInput ? .badInput : .failure }
}
