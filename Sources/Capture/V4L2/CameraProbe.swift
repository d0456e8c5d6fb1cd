// Listing cameras, their formats, frame sizes and frame rates (for `deepscope devices` and for
// picking the default camera).

#if canImport(Glibc)
import Glibc
#endif
import CV4L2
import Support

/// Frame sizes a format offers at one step of VIDIOC_ENUM_FRAMESIZES.
public enum CameraFrameSize: Sendable, Equatable {
    /// One size, with the frame rates offered at it (highest first); empty when the driver does not say.
    case discrete(width: Int, height: Int, frameRates: [Double])
    /// Any size in a range, in steps (steps of 1 for a continuous range).
    case stepwise(minWidth: Int, maxWidth: Int, stepWidth: Int, minHeight: Int, maxHeight: Int, stepHeight: Int)
}

/// One pixel format a camera offers.
public struct CameraFormat: Sendable, Equatable {
    public var fourcc: FourCC
    public var description: String
    /// Produced by libv4l2's conversion rather than by the camera itself.
    public var emulated: Bool
    public var sizes: [CameraFrameSize]
}

/// A video device node and what it offers.
public struct CameraDescription: Sendable, Equatable {
    public var path: String
    public var card: String
    public var driver: String
    public var busInfo: String
    public var formats: [CameraFormat]
    /// Why the node could not be queried (permission denied, …); the other fields are then empty.
    public var error: String?

    /// A JSON-ready dictionary (`path`, `card`, `driver`, `bus`, `formats`: [{`fourcc`,
    /// `description`, `emulated`, `sizes`: [{`width`, `height`, `fps`} or {`min_width`, …}]}], `error`).
    public var jsonObject: [String: Any] {
        var object: [String: Any] = ["path": path, "card": card, "driver": driver, "bus": busInfo]
        object["formats"] = formats.map { f -> [String: Any] in
            ["fourcc": f.fourcc.description, "description": f.description, "emulated": f.emulated,
             "sizes": f.sizes.map { size -> [String: Any] in
                switch size {
                case .discrete(let w, let h, let rates):
                    return ["width": w, "height": h, "fps": rates]
                case .stepwise(let minW, let maxW, let stepW, let minH, let maxH, let stepH):
                    return ["min_width": minW, "max_width": maxW, "step_width": stepW,
                            "min_height": minH, "max_height": maxH, "step_height": stepH]
                }
             }]
        }
        if let error { object["error"] = error }
        return object
    }

    /// Human-readable lines: the device, then one line per format.
    public var lines: [String] {
        var out = ["\(path)  \(card.isEmpty ? "(unknown)" : card)" + (driver.isEmpty ? "" : "  [\(driver), \(busInfo)]")]
        if let error {
            out.append("  cannot be queried: \(error)")
            return out
        }
        for f in formats {
            let sizes = f.sizes.map { size -> String in
                switch size {
                case .discrete(let w, let h, let rates):
                    return rates.isEmpty ? "\(w)×\(h)" : "\(w)×\(h) at " + rates.map(formatRate).joined(separator: "/") + " fps"
                case .stepwise(let minW, let maxW, _, let minH, let maxH, _):
                    return "\(minW)×\(minH) to \(maxW)×\(maxH)"
                }
            }
            let note = f.emulated ? " (converted by libv4l2)" : ""
            out.append("  \(f.fourcc.description.padding(4))  \(f.description)\(note): " + sizes.joined(separator: ", "))
        }
        return out
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}

public enum CameraProbe {
    /// Every video capture node the system has, described. Nodes that are not video capture
    /// devices (metadata nodes, codecs) are left out; nodes that cannot be opened are listed with
    /// the reason.
    public static func cameras(system: any VideoDeviceSystem) -> [CameraDescription] {
        var found: [CameraDescription] = []
        for path in system.deviceNodes() {
            do {
                found.append(try describe(path, system: system))
            } catch {
                switch error {
                case .notACamera, .notFound: continue
                default:
                    found.append(CameraDescription(path: path, card: "", driver: "", busInfo: "", formats: [],
                                                   error: error.description))
                }
            }
        }
        return found
    }

    /// The first camera that could be queried, if any.
    public static func firstCamera(system: any VideoDeviceSystem) -> String? {
        cameras(system: system).first { $0.error == nil }?.path
    }

    /// Opens `path`, queries it and closes it again.
    /// - Throws: `CaptureError.notFound`, `.notACamera`, `.unreadable` or `.device`.
    public static func describe(_ path: String, system: any VideoDeviceSystem) throws(CaptureError) -> CameraDescription {
        let handle: DeviceHandle
        do {
            handle = try DeviceHandle.open(path, system: system)
        } catch {
            switch error.code {
            case ENOENT: throw .notFound(what: "camera", path: path)
            case EACCES, EPERM: throw .unreadable(what: "camera", path: path, reason: "permission denied (\(errnoName(error.code)))")
            // libv4l2 asks VIDIOC_QUERYCAP inside v4l2_open and refuses a file that does not answer it.
            case ENOTTY, EINVAL: throw .notACamera(path: path, reason: "it does not answer VIDIOC_QUERYCAP (\(errnoName(error.code)))")
            default: throw .device(.failed(source: "camera \(path)", message: error.description))
            }
        }
        defer { handle.close() }
        var caps = v4l2_capability()
        do {
            try handle.control(.queryCapabilities, &caps)
        } catch {
            throw .notACamera(path: path, reason: "it does not answer VIDIOC_QUERYCAP (\(errnoName(error.code)))")
        }
        let deviceCaps = caps.capabilities & V4L2.capDeviceCaps != 0 ? caps.device_caps : caps.capabilities
        guard deviceCaps & V4L2.capVideoCapture != 0 else {
            throw .notACamera(path: path, reason: "it is not a video capture device")
        }
        var description = CameraDescription(path: path, card: cString(fromTuple: caps.card), driver: cString(fromTuple: caps.driver),
                                            busInfo: cString(fromTuple: caps.bus_info), formats: [], error: nil)
        // An answer other than an entry or EINVAL ends a list early: the probe reports what it saw.
        try? handle.enumerate(.enumerateFormats, limit: 256, make: V4L2Camera.formatEntry) { desc in
            let fourcc = FourCC(rawValue: desc.pixelformat)
            description.formats.append(CameraFormat(fourcc: fourcc, description: cString(fromTuple: desc.description),
                                                    emulated: desc.flags & V4L2.formatFlagEmulated != 0,
                                                    sizes: frameSizes(handle, fourcc)))
            return true
        }
        return description
    }

    private static func frameSizes(_ handle: DeviceHandle, _ fourcc: FourCC) -> [CameraFrameSize] {
        var sizes: [CameraFrameSize] = []
        try? handle.enumerate(.enumerateFrameSizes, limit: 1024, make: { index in
            var e = v4l2_frmsizeenum()
            e.index = index
            e.pixel_format = fourcc.rawValue
            return e
        }) { e in
            guard e.type != V4L2.frameSizeDiscrete else {
                let w = Int(e.discrete.width), h = Int(e.discrete.height)
                sizes.append(.discrete(width: w, height: h, frameRates: frameRates(handle, fourcc, w, h)))
                return true
            }
            let s = e.stepwise
            let continuous = e.type == V4L2.frameSizeContinuous
            sizes.append(.stepwise(minWidth: Int(s.min_width), maxWidth: Int(s.max_width),
                                   stepWidth: continuous ? 1 : Int(s.step_width),
                                   minHeight: Int(s.min_height), maxHeight: Int(s.max_height),
                                   stepHeight: continuous ? 1 : Int(s.step_height)))
            return false   // Stepwise and continuous ranges are the only entry.
        }
        return sizes
    }

    private static func frameRates(_ handle: DeviceHandle, _ fourcc: FourCC, _ width: Int, _ height: Int) -> [Double] {
        var rates: [Double] = []
        func rate(_ interval: v4l2_fract) {
            if interval.numerator > 0 { rates.append(Double(interval.denominator) / Double(interval.numerator)) }
        }
        try? handle.enumerate(.enumerateFrameIntervals, limit: 256, make: { index in
            var e = v4l2_frmivalenum()
            e.index = index
            e.pixel_format = fourcc.rawValue
            e.width = UInt32(width)
            e.height = UInt32(height)
            return e
        }) { e in
            guard e.type != V4L2.frameIntervalDiscrete else {
                rate(e.discrete)
                return true
            }
            // A range of intervals: report its fastest and slowest rates; it is the only entry.
            rate(e.stepwise.min)
            rate(e.stepwise.max)
            return false
        }
        return rates.sorted(by: >)
    }
}
