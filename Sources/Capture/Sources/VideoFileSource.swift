// A video file as a frame source: FFmpeg's libavformat demuxes, libavcodec decodes, libswscale
// converts to RGB24. The file loops.

import CFFmpeg
import FFmpegSupport
import Foundation
import Support

/// Frames of a video file, decoded in order and looped at the end, paced at the file's frame rate
/// (or the `fps` asked for; 0 delivers frames as fast as possible).
///
/// The geometry is the video's size, or the requested size (scaled to cover it and centre-cropped).
/// libswscale writes straight into the destination when no crop or mirror is needed; otherwise into
/// a staging frame allocated at `open`.
///
/// Decoding allocates inside FFmpeg (measured on Debian's FFmpeg 5.1: about 7 small blocks per
/// demuxed packet and 32 per decoded H.264 frame; the public API has no way around it). So a loop
/// that fits in `cacheBudget` bytes is decoded once: the first pass keeps each finished frame, and
/// later passes replay them from memory, allocating nothing and costing one copy per frame. Longer
/// videos are decoded on every pass.
public final class VideoFileSource: FrameSource, @unchecked Sendable {
    public let path: String
    public let options: SourceOptions

    private var formatContext: UnsafeMutablePointer<AVFormatContext>?
    private var codecContext: UnsafeMutablePointer<AVCodecContext>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var frame: UnsafeMutablePointer<AVFrame>?
    private var scaler: OpaquePointer?
    private var streamIndex: Int32 = -1
    private var startTime: Int64 = 0
    private var draining = false
    private var pendingFrame = false
    private var framesThisPass = 0

    private var fixedGeometry: FrameGeometry?
    private var nativeGeometry: FrameGeometry?
    private var scaledGeometry: FrameGeometry?
    private var crop = (x: 0, y: 0, width: 0, height: 0)
    private var staging: UnsafeMutablePointer<UInt8>?
    private var pacer = Pacer(frameRate: 0)
    private var sequence: UInt64 = 0
    public private(set) var frameRate: Double = 0
    public private(set) var detail: String = "not opened"
    /// Passes through the file completed so far.
    public private(set) var loops = 0

    /// The most memory the decoded loop may take; 0 never caches.
    public let cacheBudget: Int
    public static let defaultCacheBudget = 256 << 20
    private var cache: UnsafeMutablePointer<UInt8>?
    private var cacheCapacity = 0
    private var cachedFrames = 0
    private var replayIndex = 0
    /// True once the whole loop is cached and the decoder is closed.
    public private(set) var isReplaying = false

    /// - Parameters:
    ///   - path: the video file.
    ///   - options: size, frame rate (0: as fast as possible), mirroring.
    ///   - cacheBudget: bytes the decoded loop may take to be replayed from memory; 0 decodes every pass.
    public init(path: String, options: SourceOptions = SourceOptions(), cacheBudget: Int = VideoFileSource.defaultCacheBudget) {
        self.path = path
        self.options = options
        self.cacheBudget = cacheBudget
        FFmpegLog.silence()
    }

    deinit {
        close()
        staging?.deallocate()
        cache?.deallocate()
    }

    public var name: String { "video \(path)" }
    public var geometry: FrameGeometry { fixedGeometry! }

    // MARK: - Open and close

    public func open() throws(CaptureError) {
        if isReplaying {
            pacer.reset()
            return
        }
        close()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .notFound(what: "video", path: path)
        }
        guard !isDirectory.boolValue else { throw .unreadable(what: "video", path: path, reason: "it is a folder") }
        do {
            try openDecoder()
        } catch {
            close()
            throw error
        }
    }

    private func unreadable(_ reason: String) -> CaptureError { .unreadable(what: "video", path: path, reason: reason) }

    private func openDecoder() throws(CaptureError) {
        var context: UnsafeMutablePointer<AVFormatContext>?
        var r = avformat_open_input(&context, path, nil, nil)
        guard r >= 0, let context else { throw unreadable("FFmpeg cannot read it (\(Self.message(r)))") }
        formatContext = context
        r = avformat_find_stream_info(context, nil)
        guard r >= 0 else { throw unreadable("FFmpeg cannot find its streams (\(Self.message(r)))") }
        var decoder: UnsafePointer<AVCodec>?
        r = av_find_best_stream(context, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0)
        guard r >= 0 else {
            throw unreadable(r == ds_averror_decoder_not_found() ? "FFmpeg has no decoder for its video stream" : "it has no video stream")
        }
        guard let decoder else { throw unreadable("FFmpeg has no decoder for its video stream") }
        streamIndex = r
        let stream = context.pointee.streams[Int(r)]!
        startTime = stream.pointee.start_time == ds_av_nopts_value() ? 0 : stream.pointee.start_time

        guard let codec = avcodec_alloc_context3(decoder) else { throw .device(.failed(source: name, message: "out of memory")) }
        codecContext = codec
        r = avcodec_parameters_to_context(codec, stream.pointee.codecpar)
        guard r >= 0 else { throw unreadable("its codec parameters are invalid (\(Self.message(r)))") }
        // One decoding thread: the inference thread needs the cores, and frame threading would add
        // latency and per-frame bookkeeping.
        codec.pointee.thread_count = 1
        r = avcodec_open2(codec, decoder, nil)
        guard r >= 0 else { throw unreadable("its \(String(cString: decoder.pointee.name)) video cannot be decoded (\(Self.message(r)))") }
        guard codec.pointee.width > 0, codec.pointee.height > 0 else { throw unreadable("its video has no frame size") }
        packet = av_packet_alloc()
        frame = av_frame_alloc()
        guard packet != nil, frame != nil else { throw .device(.failed(source: name, message: "out of memory")) }

        let native = FrameGeometry(width: Int(codec.pointee.width), height: Int(codec.pointee.height))
        let streamRate = Self.rate(stream.pointee.avg_frame_rate) ?? Self.rate(stream.pointee.r_frame_rate) ?? 25
        frameRate = options.frameRate ?? streamRate
        pacer = Pacer(frameRate: frameRate)

        // The first frame proves the file decodes; it is delivered by the first read.
        draining = false
        framesThisPass = 0
        if case .failed(let reason) = decodeNext() { throw unreadable("no frame of it can be decoded (\(reason))") }
        pendingFrame = true

        if fixedGeometry == nil { fixedGeometry = options.requestedGeometry ?? native }
        try plan(native: native)
        planCache(stream: stream, context: context)
        let codecName = String(cString: decoder.pointee.name)
        detail = "\(native) \(codecName) at \(formatRate(streamRate)) fps, looped"
            + (native != geometry ? ", scaled to \(geometry)" : "")
            + (frameRate != streamRate ? ", played at " + (frameRate > 0 ? "\(formatRate(frameRate)) fps" : "full speed") : "")
    }

    /// Plans the conversion from frames of `native` size into the fixed geometry.
    private func plan(native: FrameGeometry) throws(CaptureError) {
        let target = geometry
        let (scaled, crop) = coverScaling(source: native, target: target)
        nativeGeometry = native
        scaledGeometry = scaled
        self.crop = crop
        staging?.deallocate()
        staging = scaled != target || options.mirror ? .allocate(capacity: scaled.byteCount) : nil
    }

    /// Reserves the loop cache when the video's frame count is known and fits the budget. The block
    /// is reserved, not touched: pages are committed as frames are written.
    private func planCache(stream: UnsafeMutablePointer<AVStream>, context: UnsafeMutablePointer<AVFormatContext>) {
        cachedFrames = 0
        replayIndex = 0
        guard cacheBudget > 0, cache == nil else { return }
        var estimate = Int(stream.pointee.nb_frames)
        if estimate <= 0 {
            let rate = Self.rate(stream.pointee.avg_frame_rate) ?? Self.rate(stream.pointee.r_frame_rate) ?? 0
            var seconds = 0.0
            if stream.pointee.duration != ds_av_nopts_value(), let base = Self.rate(stream.pointee.time_base) {
                seconds = Double(stream.pointee.duration) * base
            } else if context.pointee.duration != ds_av_nopts_value() {
                seconds = Double(context.pointee.duration) / Double(AV_TIME_BASE)
            }
            estimate = Int((seconds * rate).rounded(.up))
        }
        guard estimate > 0 else { return }
        let capacity = estimate + estimate / 10 + 2
        guard capacity.multipliedReportingOverflow(by: geometry.byteCount).partialValue <= cacheBudget else { return }
        cache = .allocate(capacity: capacity * geometry.byteCount)
        cacheCapacity = capacity
    }

    /// Gives up caching (the loop turned out longer than estimated).
    private func dropCache() {
        cache?.deallocate()
        cache = nil
        cacheCapacity = 0
        cachedFrames = 0
    }

    public func close() {
        if let scaler { sws_freeContext(scaler) }
        scaler = nil
        if frame != nil { av_frame_free(&frame) }
        if packet != nil { av_packet_free(&packet) }
        if codecContext != nil { avcodec_free_context(&codecContext) }
        if formatContext != nil { avformat_close_input(&formatContext) }
        pendingFrame = false
    }

    // MARK: - Frames

    public func read(into destination: UnsafeMutablePointer<UInt8>, timeout: UInt64) -> FrameRead {
        guard let target = fixedGeometry, frame != nil || isReplaying else {
            return .fault(.failed(source: name, message: "the video is not open"))
        }
        guard pacer.waitForFrame(timeout: timeout) else { return .timeout }
        var replayStartsNow = false
        if !isReplaying {
            if pendingFrame {
                pendingFrame = false
            } else {
                switch decodeNext() {
                case .frame: break
                case .failed(let reason): return .fault(.failed(source: name, message: reason))
                case .endOfCachedLoop:
                    // Every frame of the loop is in the cache: replay from now on, without FFmpeg.
                    isReplaying = true
                    replayStartsNow = true
                    loops += 1
                    close()
                }
            }
        }
        if isReplaying {
            // Each later return to the first cached frame is one more loop, as a rewind is when decoding.
            if replayIndex == 0 && !replayStartsNow { loops += 1 }
            destination.update(from: cache! + replayIndex * target.byteCount, count: target.byteCount)
            replayIndex = (replayIndex + 1) % cachedFrames
        } else {
            guard convert(into: destination, target: target) else {
                return .fault(.failed(source: name, message: "libswscale cannot convert its frames"))
            }
            if let cache {
                if cachedFrames < cacheCapacity {
                    (cache + cachedFrames * target.byteCount).update(from: destination, count: target.byteCount)
                    cachedFrames += 1
                } else {
                    dropCache()
                }
            }
        }
        sequence += 1
        return .frame(FrameStamp(sourceSequence: sequence, captureTime: MonotonicClock.now()))
    }

    private enum Decoded {
        case frame
        /// The first pass ended with every frame cached.
        case endOfCachedLoop
        case failed(String)
    }

    /// Decodes the next frame into `frame`, rewinding at the end of the file.
    private func decodeNext() -> Decoded {
        guard let codec = codecContext, let format = formatContext, let packet, let frame else { return .failed("not open") }
        let again = ds_averror(EAGAIN), end = ds_averror_eof()
        var rejectedPackets = 0
        while true {
            let r = avcodec_receive_frame(codec, frame)
            if r == 0 {
                framesThisPass += 1
                return .frame
            }
            if r == again {
                if draining { return .failed("the decoder stalled while draining") }
                let read = av_read_frame(format, packet)
                if read < 0 {
                    // End of file (or a truncated tail): drain the decoder, then loop.
                    draining = true
                    _ = avcodec_send_packet(codec, nil)
                    continue
                }
                if packet.pointee.stream_index == streamIndex {
                    let sent = avcodec_send_packet(codec, packet)
                    if sent < 0 && sent != again {
                        rejectedPackets += 1
                        if rejectedPackets > 256 { av_packet_unref(packet); return .failed(Self.message(sent)) }
                    }
                }
                av_packet_unref(packet)
                continue
            }
            if r == end {
                guard framesThisPass > 0 else { return .failed("it has no decodable frames") }
                if cache != nil && cachedFrames > 0 && cachedFrames == framesThisPass && loops == 0 { return .endOfCachedLoop }
                if cache != nil { dropCache() }
                guard rewind() else { return .failed("it cannot be rewound to loop") }
                continue
            }
            return .failed(Self.message(r))
        }
    }

    private func rewind() -> Bool {
        guard let format = formatContext, let codec = codecContext else { return false }
        if av_seek_frame(format, streamIndex, startTime, AVSEEK_FLAG_BACKWARD) < 0
            && avformat_seek_file(format, streamIndex, Int64.min, startTime, startTime, 0) < 0 {
            return false
        }
        avcodec_flush_buffers(codec)
        draining = false
        framesThisPass = 0
        loops += 1
        return true
    }

    /// Converts `frame` to RGB24 into `destination`, through the staging frame when cropping or mirroring.
    private func convert(into destination: UnsafeMutablePointer<UInt8>, target: FrameGeometry) -> Bool {
        guard let frame, let scaled = scaledGeometry else { return false }
        let w = frame.pointee.width, h = frame.pointee.height
        guard w > 0, h > 0 else { return false }
        scaler = sws_getCachedContext(scaler, w, h, AVPixelFormat(rawValue: frame.pointee.format),
                                      Int32(scaled.width), Int32(scaled.height), AV_PIX_FMT_RGB24,
                                      SWS_BILINEAR, nil, nil, nil)
        guard let scaler else { return false }
        let output = staging ?? destination
        var planes = frame.pointee.data
        var strides = frame.pointee.linesize
        var outPlanes: (UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt8>?,
                        UnsafeMutablePointer<UInt8>?) = (output, nil, nil, nil)
        var outStrides: (Int32, Int32, Int32, Int32) = (Int32(scaled.rowBytes), 0, 0, 0)
        let rows = withUnsafePointer(to: &planes) { planesPointer in
            planesPointer.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { src in
                withUnsafePointer(to: &strides) { stridesPointer in
                    stridesPointer.withMemoryRebound(to: Int32.self, capacity: 8) { srcStride in
                        withUnsafePointer(to: &outPlanes) { outPointer in
                            outPointer.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 4) { dst in
                                withUnsafePointer(to: &outStrides) { outStridePointer in
                                    outStridePointer.withMemoryRebound(to: Int32.self, capacity: 4) { dstStride in
                                        sws_scale(scaler, src, srcStride, 0, h, dst, dstStride)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        guard rows > 0 else { return false }
        if let staging {
            copyRGB(from: staging, sourceWidth: scaled.width, crop: crop, into: destination, mirror: options.mirror)
        }
        return true
    }

    // MARK: - Helpers

    private static func rate(_ r: AVRational) -> Double? {
        r.num > 0 && r.den > 0 ? Double(r.num) / Double(r.den) : nil
    }

    static func message(_ code: Int32) -> String { ffmpegErrorText(code) }
}
