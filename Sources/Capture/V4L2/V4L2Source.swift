// A V4L2 camera as a `FrameSource`.

/// Frames from a V4L2 camera, converted to RGB (and mirrored if asked) straight out of the mapped
/// driver buffer into the caller's destination.
///
/// The geometry is fixed by the first successful `open`. If the camera comes back from a reconnect
/// with another size, frames are converted into a staging buffer and resampled into that geometry.
public final class V4L2Source: FrameSource, @unchecked Sendable {
    public let path: String
    public let options: SourceOptions
    public let camera: V4L2Camera

    private var fixedGeometry: FrameGeometry?
    private var fitter: FrameFitter?
    private var staging: UnsafeMutablePointer<UInt8>?
    private var stagingBytes = 0
    public private(set) var frameRate: Double = 0
    public private(set) var detail: String = "not opened"

    /// - Parameters:
    ///   - path: the device node, such as /dev/video0.
    ///   - options: requested size and frame rate (the driver picks the nearest it supports), mirroring.
    ///   - system: where V4L2 calls go (libv4l2, or an emulated device in tests).
    public init(path: String, options: SourceOptions = SourceOptions(), system: any VideoDeviceSystem) {
        self.path = path
        self.options = options
        camera = V4L2Camera(path: path, system: system)
    }

    deinit {
        camera.stop()
        staging?.deallocate()
    }

    public var name: String { "camera \(path)" }

    public var geometry: FrameGeometry {
        guard let fixedGeometry else { preconditionFailure("\(name) was never opened") }
        return fixedGeometry
    }

    /// What the driver agreed on in the current session.
    public var negotiated: NegotiatedFormat? { camera.format }

    public func open() throws(CaptureError) {
        try camera.start(width: options.width, height: options.height, frameRate: options.frameRate)
        guard let format = camera.format else { return }
        let negotiated = format.geometry
        if fixedGeometry == nil { fixedGeometry = negotiated }
        let target = fixedGeometry!
        frameRate = format.frameRate ?? 0
        if negotiated != target {
            if fitter?.source != negotiated { fitter = FrameFitter(source: negotiated, target: target) }
            if stagingBytes < negotiated.byteCount {
                staging?.deallocate()
                staging = .allocate(capacity: negotiated.byteCount)
                stagingBytes = negotiated.byteCount
            }
            detail = "\(format), resampled to \(target)"
        } else {
            fitter = nil
            detail = format.description
        }
    }

    public func read(into destination: UnsafeMutablePointer<UInt8>, timeout: UInt64) -> FrameRead {
        guard let format = camera.format, let layout = format.fourcc.layout else {
            return .fault(.failed(source: name, message: "the camera is not open"))
        }
        let mirror = options.mirror
        let result = camera.nextFrame(timeout: timeout) { bytes, _ in
            let source = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
            if fitter == nil {
                convertToRGB(layout, source: source, sourceRowBytes: format.bytesPerLine,
                             width: format.width, height: format.height, into: destination, mirror: mirror)
            } else {
                convertToRGB(layout, source: source, sourceRowBytes: format.bytesPerLine,
                             width: format.width, height: format.height, into: staging!, mirror: mirror)
                fitter!.fit(staging!, into: destination)
            }
        }
        switch result {
        case .frame(let stamp): return .frame(stamp)
        case .timeout: return .timeout
        case .fault(let error): return .fault(fault(error))
        }
    }

    public func close() {
        camera.stop()
    }

    private func fault(_ error: V4L2Error) -> CaptureFault {
        switch error.kind {
        case .gone: return .disconnected(source: name, code: error.code)
        case .busy: return .busy(source: name)
        default: return .failed(source: name, message: error.description)
        }
    }
}
