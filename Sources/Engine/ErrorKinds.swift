// Engine errors as the command line reports them (see `DeepScopeError`).

import Support

/// A graph that cannot be built is a problem of the model the user gave.
extension GraphError: DeepScopeError {
    public var errorKind: ErrorKind { .badInput }
}

/// A projection asked for a layer, channel or position that does not exist.
extension ProjectionError: DeepScopeError {
    public var errorKind: ErrorKind { .badInput }
}
