// Still images as frame sources: one image repeated, or a folder of images cycled.

import Foundation
import Support
import Synchronization
import Imaging

/// Decodes an image file for a source, mapping decoding errors to one-sentence capture errors.
func decodeImage(_ path: String) throws(CaptureError) -> RGBImage {
    do {
        return try RGBImage(contentsOfFile: path)
    } catch {
        switch error {
        case .notFound: throw .notFound(what: "image", path: path)
        case .unreadable(_, let reason): throw .unreadable(what: "image", path: path, reason: reason)
        case .empty: throw .unreadable(what: "image", path: path, reason: "it is empty")
        case .notAnImage: throw .unreadable(what: "image", path: path, reason: "it is not a PNG or JPEG image")
        case .corrupt(_, let message): throw .unreadable(what: "image", path: path, reason: "it is truncated or corrupt (\(message))")
        case .unsupported(_, let what): throw .unreadable(what: "image", path: path, reason: "it is \(what), which is not supported")
        case .tooLarge(_, let w, let h):
            throw .unreadable(what: "image", path: path, reason: "it is \(w)×\(h) pixels, more than \(ImageLimits.maxDimension) per side")
        case .writeFailed(_, let reason): throw .unreadable(what: "image", path: path, reason: reason)
        }
    }
}

/// `image` fitted to cover `target` (aspect ratio kept, centred crop).
func fitted(_ image: RGBImage, to target: FrameGeometry) -> [UInt8] {
    let source = FrameGeometry(width: image.width, height: image.height)
    var fitter = FrameFitter(source: source, target: target)
    var out = [UInt8](repeating: 0, count: target.byteCount)
    image.pixels.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in fitter.fit(src.baseAddress!, into: dst.baseAddress!) }
    }
    return out
}

/// One PNG or JPEG image, delivered again and again at a frame rate (30 fps unless given).
public final class ImageSource: FrameSource, @unchecked Sendable {
    public let path: String
    public let options: SourceOptions
    private var pixels: [UInt8] = []
    private var fixedGeometry: FrameGeometry?
    private var pacer: Pacer
    private var sequence: UInt64 = 0

    public static let defaultFrameRate = 30.0

    public init(path: String, options: SourceOptions = SourceOptions()) {
        self.path = path
        self.options = options
        pacer = Pacer(frameRate: options.frameRate ?? Self.defaultFrameRate)
    }

    public var name: String { "image \(path)" }
    public var geometry: FrameGeometry { fixedGeometry! }
    public var frameRate: Double { options.frameRate ?? Self.defaultFrameRate }
    public var detail: String { "\(fixedGeometry.map { "\($0)" } ?? "?") still image, repeated at \(formatRate(frameRate)) fps" }

    public func open() throws(CaptureError) {
        pacer.reset()
        guard fixedGeometry == nil else { return }
        let image = try decodeImage(path)
        let target = options.requestedGeometry ?? FrameGeometry(width: image.width, height: image.height)
        pixels = fitted(image, to: target)
        fixedGeometry = target
    }

    public func read(into destination: UnsafeMutablePointer<UInt8>, timeout: UInt64) -> FrameRead {
        guard let g = fixedGeometry else { return .fault(.failed(source: name, message: "the image is not open")) }
        guard pacer.waitForFrame(timeout: timeout) else { return .timeout }
        pixels.withUnsafeBufferPointer { src in
            copyRGB(from: src.baseAddress!, sourceWidth: g.width, crop: (0, 0, g.width, g.height),
                    into: destination, mirror: options.mirror)
        }
        sequence += 1
        return .frame(FrameStamp(sourceSequence: sequence, captureTime: MonotonicClock.now()))
    }

    public func close() {}
}

/// The PNG and JPEG images of a folder, in name order (numbers compared as numbers), cycled at a
/// frame rate (1 fps unless given) — or, as a slideshow, each image repeated at the frame rate for
/// `secondsPerImage`. Every image is decoded and fitted to the geometry once, at the first `open`;
/// the geometry is the requested size, or the first image's. Its controls step through the files.
public final class DirectorySource: FrameSource, SourceControls, @unchecked Sendable {
    public let path: String
    public let options: SourceOptions
    public private(set) var files: [String] = []
    private var frames: UnsafeMutablePointer<UInt8>?
    private var fixedGeometry: FrameGeometry?
    private var pacer: Pacer
    private var sequence: UInt64 = 0
    private var next = 0
    /// Slideshow: how long each image is shown (nil: one frame per image).
    public let secondsPerImage: Double?
    /// When the image shown last was first shown (slideshow).
    private var shownSince: UInt64 = 0
    /// Steps asked for by `step(by:)` and not yet taken by `read`.
    private let pendingStep = Atomic<Int>(0)

    public static let defaultFrameRate = 1.0
    /// The most memory the decoded images may take.
    public static let memoryBudget = 1 << 30
    static let extensions: Set<String> = ["png", "jpg", "jpeg"]

    public init(path: String, options: SourceOptions = SourceOptions(), secondsPerImage: Double? = nil) {
        self.path = path
        self.options = options
        self.secondsPerImage = secondsPerImage
        pacer = Pacer(frameRate: options.frameRate ?? Self.defaultFrameRate)
    }

    deinit { frames?.deallocate() }

    public var name: String { "folder \(path)" }
    public var controls: (any SourceControls)? { self }
    public var geometry: FrameGeometry { fixedGeometry! }
    public var frameRate: Double { options.frameRate ?? Self.defaultFrameRate }
    public var detail: String {
        let size = fixedGeometry.map { "\($0)" } ?? "?"
        if let seconds = secondsPerImage {
            return "\(files.count) image(s) at \(size), each shown for \(formatRate(seconds)) s at \(formatRate(frameRate)) fps"
        }
        return "\(files.count) image(s) at \(size), cycled at \(formatRate(frameRate)) fps"
    }

    public func open() throws(CaptureError) {
        pacer.reset()
        guard fixedGeometry == nil else { return }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .notFound(what: "folder", path: path)
        }
        guard isDirectory.boolValue else { throw .unreadable(what: "folder", path: path, reason: "it is not a folder") }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw .unreadable(what: "folder", path: path, reason: "its entries cannot be listed")
        }
        let images = names.filter { name in
            !name.hasPrefix(".") && Self.extensions.contains((name as NSString).pathExtension.lowercased())
        }.sorted { $0.compare($1, options: [.numeric]) == .orderedAscending }
        guard !images.isEmpty else {
            throw .unreadable(what: "folder", path: path, reason: "it holds no PNG or JPEG images")
        }
        let paths = images.map { (path as NSString).appendingPathComponent($0) }
        let first = try decodeImage(paths[0])
        let target = options.requestedGeometry ?? FrameGeometry(width: first.width, height: first.height)
        let total = target.byteCount * paths.count
        guard total <= Self.memoryBudget else {
            throw .unreadable(what: "folder", path: path,
                              reason: "its \(paths.count) images would take \(total >> 20) MB at \(target); ask for a smaller size with ?width=&height=")
        }
        let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: total)
        for (i, file) in paths.enumerated() {
            let image: RGBImage
            do {
                image = i == 0 ? first : try decodeImage(file)
            } catch {
                storage.deallocate()
                throw error
            }
            fitted(image, to: target).withUnsafeBufferPointer { src in
                (storage + i * target.byteCount).update(from: src.baseAddress!, count: target.byteCount)
            }
        }
        frames = storage
        files = paths
        fixedGeometry = target
    }

    /// Moves to the image `delta` places after (or before) the one shown last, at the next read,
    /// without waiting for the frame rate. Safe to call from any thread.
    public func step(by delta: Int) {
        pendingStep.add(delta, ordering: .relaxed)
    }

    /// The index of the image the next read delivers (for messages).
    public var upcomingIndex: Int { next }

    public func read(into destination: UnsafeMutablePointer<UInt8>, timeout: UInt64) -> FrameRead {
        guard let g = fixedGeometry, let frames else { return .fault(.failed(source: name, message: "the folder is not open")) }
        let step = pendingStep.exchange(0, ordering: .relaxed)
        if step != 0 {
            // `next` is one past the image shown last: step from that one.
            let n = files.count
            next = (((next - 1 + step) % n) + n) % n
            pacer.restartAfterFrame()
            shownSince = 0
        } else {
            guard pacer.waitForFrame(timeout: timeout) else { return .timeout }
        }
        let now = MonotonicClock.now()
        var index = next
        if let seconds = secondsPerImage {
            // Slideshow: repeat the image shown last until its time is up.
            let shown = (next - 1 + files.count) % files.count
            if shownSince != 0 && Double(now &- shownSince) < seconds * 1e9 {
                index = shown
            } else {
                shownSince = now
            }
        }
        copyRGB(from: frames + index * g.byteCount, sourceWidth: g.width, crop: (0, 0, g.width, g.height),
                into: destination, mirror: options.mirror)
        next = (index + 1) % files.count
        sequence += 1
        return .frame(FrameStamp(sourceSequence: sequence, captureTime: now))
    }

    public func close() {}
}
