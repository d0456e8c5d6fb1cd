// Capture errors as the command line reports them (see `DeepScopeError`).

import Support

/// A source spec, path or file that cannot be used is bad input; a device that fails is not.
extension CaptureError: DeepScopeError {
    public var errorKind: ErrorKind { isBadInput ? .badInput : .failure }
}

/// A running source that stopped delivering frames: a failure of the device.
extension CaptureFault: DeepScopeError {
    public var errorKind: ErrorKind { .failure }
}

/// A V4L2 call the device refused: a failure of the device.
extension V4L2Error: DeepScopeError {
    public var errorKind: ErrorKind { .failure }
}
