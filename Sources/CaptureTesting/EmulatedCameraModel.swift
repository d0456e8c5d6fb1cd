// What an emulated camera offers: formats, sizes, frame rates, and the driver quirks to follow.

import Capture

/// A camera for `EmulatedVideoSystem` to emulate.
public struct EmulatedCameraModel: Sendable {
    /// One frame size and the frame rates offered at it.
    public struct Size: Sendable, Equatable {
        public var geometry: FrameGeometry
        public var frameRates: [Double]

        public init(_ width: Int, _ height: Int, frameRates: [Double]) {
            geometry = FrameGeometry(width: width, height: height)
            self.frameRates = frameRates
        }
    }

    /// One pixel format and its sizes (`VIDIOC_ENUM_FMT`, `VIDIOC_ENUM_FRAMESIZES`,
    /// `VIDIOC_ENUM_FRAMEINTERVALS`).
    public struct Format: Sendable, Equatable {
        public var fourcc: FourCC
        public var description: String
        public var sizes: [Size]
        /// Flagged `V4L2_FMT_FLAG_EMULATED`, as libv4l2 flags the formats it converts to.
        public var emulated: Bool

        public init(_ fourcc: FourCC, _ description: String, sizes: [Size], emulated: Bool = false) {
            self.fourcc = fourcc
            self.description = description
            self.sizes = sizes
            self.emulated = emulated
        }

        /// Bytes per pixel of an uncompressed row; nil for compressed formats.
        var bytesPerPixel: Int? { fourcc.layout?.bytesPerPixel }
    }

    /// What kind of node the path is.
    public enum Node: Sendable, Equatable {
        /// A video capture device with streaming I/O.
        case videoCapture
        /// A V4L2 node that does not capture video (a UVC camera's metadata node).
        case metadata
        /// Not a V4L2 device at all: every ioctl fails with ENOTTY (like /dev/null).
        case notV4L2
    }

    public var card: String
    public var driver: String
    public var busInfo: String
    public var node: Node
    public var formats: [Format]
    /// Old drivers fail VIDIOC_S_FMT with EINVAL for a format they lack, where the specification
    /// asks them to substitute one they have.
    public var rejectsUnknownFormats: Bool
    /// Extra bytes at the end of every row (bytesperline > width · bytes per pixel).
    public var rowPadding: Int
    /// VIDIOC_REQBUFS grants between these counts.
    public var minimumBuffers: Int
    public var maximumBuffers: Int
    /// Frames arrive at the frame interval (true), or whenever a buffer is queued (false, for
    /// measuring capture alone).
    public var paced: Bool

    public init(card: String = "Emulated Camera", driver: String = "emulated", busInfo: String = "platform:emulated",
                node: Node = .videoCapture, formats: [Format], rejectsUnknownFormats: Bool = false,
                rowPadding: Int = 0, minimumBuffers: Int = 2, maximumBuffers: Int = 32, paced: Bool = true) {
        self.card = card
        self.driver = driver
        self.busInfo = busInfo
        self.node = node
        self.formats = formats
        self.rejectsUnknownFormats = rejectsUnknownFormats
        self.rowPadding = rowPadding
        self.minimumBuffers = minimumBuffers
        self.maximumBuffers = maximumBuffers
        self.paced = paced
    }

    /// A USB webcam as libv4l2 presents it: native YUYV and MJPEG, plus RGB24 and BGR24 flagged
    /// as converted.
    /// - Parameters:
    ///   - sizes: the sizes every format offers.
    ///   - paced: see `paced`.
    public static func webcam(sizes: [Size] = [Size(320, 240, frameRates: [60, 30, 15]), Size(640, 480, frameRates: [30, 15]),
                                               Size(1280, 720, frameRates: [30, 10])],
                              paced: Bool = true) -> EmulatedCameraModel {
        EmulatedCameraModel(card: "Emulated Webcam", driver: "uvcvideo", busInfo: "usb-emulated-1",
                            formats: [
                                Format(.yuyv, "YUYV 4:2:2", sizes: sizes),
                                Format(.mjpeg, "Motion-JPEG", sizes: sizes),
                                Format(.rgb24, "RGB3", sizes: sizes, emulated: true),
                                Format(.bgr24, "BGR3", sizes: sizes, emulated: true),
                            ],
                            paced: paced)
    }

    /// A camera with one uncompressed format, for tests.
    public static func single(_ fourcc: FourCC, width: Int = 64, height: Int = 48, frameRates: [Double] = [200],
                              paced: Bool = true, rowPadding: Int = 0) -> EmulatedCameraModel {
        EmulatedCameraModel(formats: [Format(fourcc, fourcc.description, sizes: [Size(width, height, frameRates: frameRates)])],
                            rowPadding: rowPadding, paced: paced)
    }

    /// The pattern every emulated buffer holds before frames are stamped into it, as RGB.
    public static func patternRGB(x: Int, y: Int) -> (r: UInt8, g: UInt8, b: UInt8) {
        (UInt8(truncatingIfNeeded: x &* 3), UInt8(truncatingIfNeeded: y &* 5), UInt8(truncatingIfNeeded: (x &+ y) &* 7 &+ 64))
    }

    /// The pattern as YUYV: luma ramps with x, fixed chroma per row pair.
    public static func patternYUYV(x: Int, y: Int) -> (luma: UInt8, u: UInt8, v: UInt8) {
        (UInt8(16 + (x * 7 + y) % 220), UInt8(64 + (y % 128)), UInt8(192 - (x / 2) % 128))
    }

    /// Bytes 0..<8 and the last 8 bytes of every delivered frame hold its sequence number
    /// (little-endian), so tests can check order and completeness after an RGB24 capture.
    public static let stampBytes = 8
}
