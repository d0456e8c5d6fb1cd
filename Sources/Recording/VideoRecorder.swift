// Recording the window: composed frames → a thread of its own → H.264 in MP4 (FFmpeg).

import CFFmpeg
import FFmpegSupport
import Foundation
import Support

/// Why a recording could not start or finish: one sentence naming the file.
public struct RecordingError: Error, CustomStringConvertible, Sendable {
    public var description: String
    /// True when the fault is the caller's (a path that cannot be written), not the machine's.
    public var isBadInput: Bool
}

/// Writes RGBA frames to an MP4 file (H.264, yuv420p) on a thread of its own.
///
/// `submit` copies a frame into one of three preallocated slots and returns at once: the encoder
/// takes the newest frame (latest wins), so a slow encoder drops frames instead of slowing the
/// window. Timestamps are the frames' presentation times (variable frame rate, millisecond time
/// base), so the video plays at the speed it was seen. The file is written under a temporary name
/// beside the target and renamed when `finish` succeeds: a failed or interrupted recording never
/// leaves a half-written file under the name asked for.
public final class VideoRecorder: @unchecked Sendable {
    public let path: String
    /// The size of the frames submitted, and of the video (rounded down to even numbers).
    public let width: Int
    public let height: Int
    public let videoWidth: Int
    public let videoHeight: Int

    private let temporaryPath: String
    private var format: UnsafeMutablePointer<AVFormatContext>?
    private var codec: UnsafeMutablePointer<AVCodecContext>?
    private var stream: UnsafeMutablePointer<AVStream>?
    private var frame: UnsafeMutablePointer<AVFrame>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var scaler: OpaquePointer?

    /// One frame's memory and when it was shown.
    private struct Slot {
        let pixels: UnsafeMutablePointer<UInt8>
        var time: UInt64 = 0
    }

    /// Guards `encoded` (frames have their own lock in `frames`).
    private let monitor = Monitor()
    private let storage: UnsafeMutablePointer<UInt8>
    private let frames: TripleBuffer<Slot>
    private var thread: WorkerThread?
    private var startTime: UInt64?
    private var lastPTS: Int64 = -1
    private var failure: String?
    private var encodedCount = 0

    /// Opens `path` for a `width`×`height` recording and starts the encoder thread.
    public init(path: String, width: Int, height: Int) throws(RecordingError) {
        self.path = path
        self.width = width
        self.height = height
        videoWidth = width & ~1
        videoHeight = height & ~1
        try Self.checkDestination(path)
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        guard videoWidth >= 16, videoHeight >= 16 else {
            throw RecordingError(description: "Cannot record a \(width)×\(height) window to \(path): it is too small to encode.", isBadInput: true)
        }
        temporaryPath = (directory as NSString).appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp.mp4")
        let slotBytes = width * height * 4
        let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: 3 * slotBytes)
        storage.initialize(repeating: 0, count: 3 * slotBytes)
        self.storage = storage
        frames = TripleBuffer { index in Slot(pixels: storage + index * slotBytes) }
        do {
            try openEncoder()
        } catch {
            close()
            unlink(temporaryPath)
            storage.deallocate()
            throw error
        }
        thread = WorkerThread(name: "ds-recorder") { [self] in run() }
    }

    /// Checks that `path` can take a recording: an `.mp4` name in a folder that exists and can be
    /// written (a relative path is relative to the current folder).
    public static func checkDestination(_ path: String) throws(RecordingError) {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue,
              FileManager.default.isWritableFile(atPath: directory) else {
            throw RecordingError(description: "Cannot record to \(path): the folder \(directory) does not exist or cannot be written.", isBadInput: true)
        }
        guard url.pathExtension.lowercased() == "mp4" else {
            throw RecordingError(description: "Cannot record to \(path): the file name must end in .mp4.", isBadInput: true)
        }
    }

    deinit {
        if thread != nil { abort() }
        storage.deallocate()
    }

    private func fail(_ what: String, _ code: Int32) -> RecordingError {
        RecordingError(description: "Cannot record to \(path): \(what) (\(ffmpegErrorText(code))).", isBadInput: false)
    }

    private func openEncoder() throws(RecordingError) {
        FFmpegLog.silence()
        var ctx: UnsafeMutablePointer<AVFormatContext>?
        var r = avformat_alloc_output_context2(&ctx, nil, "mp4", temporaryPath)
        guard r >= 0, let ctx else { throw fail("FFmpeg cannot write MP4", r) }
        format = ctx
        guard let encoder = avcodec_find_encoder_by_name("libx264") ?? avcodec_find_encoder(AV_CODEC_ID_MPEG4) else {
            throw RecordingError(description: "Cannot record to \(path): FFmpeg has neither an H.264 nor an MPEG-4 encoder.", isBadInput: false)
        }
        guard let c = avcodec_alloc_context3(encoder), let st = avformat_new_stream(ctx, nil) else {
            throw RecordingError(description: "Cannot record to \(path): out of memory.", isBadInput: false)
        }
        codec = c
        stream = st
        c.pointee.width = Int32(videoWidth)
        c.pointee.height = Int32(videoHeight)
        c.pointee.pix_fmt = AV_PIX_FMT_YUV420P
        c.pointee.time_base = AVRational(num: 1, den: 1000)
        c.pointee.framerate = AVRational(num: 30, den: 1)
        c.pointee.gop_size = 60
        if ctx.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 {
            c.pointee.flags |= Int32(bitPattern: UInt32(AV_CODEC_FLAG_GLOBAL_HEADER))
        }
        if String(cString: encoder.pointee.name) == "libx264" {
            av_opt_set(c.pointee.priv_data, "preset", "ultrafast", 0)
            av_opt_set(c.pointee.priv_data, "tune", "zerolatency", 0)
            av_opt_set(c.pointee.priv_data, "crf", "23", 0)
        } else {
            c.pointee.bit_rate = 8_000_000
        }
        r = avcodec_open2(c, encoder, nil)
        guard r >= 0 else { throw fail("the encoder did not open", r) }
        r = avcodec_parameters_from_context(st.pointee.codecpar, c)
        guard r >= 0 else { throw fail("the stream could not be set up", r) }
        st.pointee.time_base = c.pointee.time_base
        r = avio_open(&ctx.pointee.pb, temporaryPath, AVIO_FLAG_WRITE)
        guard r >= 0 else { throw fail("the file could not be created", r) }
        r = avformat_write_header(ctx, nil)
        guard r >= 0 else { throw fail("the header could not be written", r) }
        guard let f = av_frame_alloc(), let p = av_packet_alloc() else {
            throw RecordingError(description: "Cannot record to \(path): out of memory.", isBadInput: false)
        }
        frame = f
        packet = p
        f.pointee.format = AV_PIX_FMT_YUV420P.rawValue
        f.pointee.width = Int32(videoWidth)
        f.pointee.height = Int32(videoHeight)
        r = av_frame_get_buffer(f, 0)
        guard r >= 0 else { throw fail("no frame buffer", r) }
        scaler = sws_getContext(Int32(width), Int32(height), AV_PIX_FMT_RGBA, Int32(videoWidth), Int32(videoHeight),
                                AV_PIX_FMT_YUV420P, SWS_BILINEAR, nil, nil, nil)
        guard scaler != nil else {
            throw RecordingError(description: "Cannot record to \(path): no RGBA to YUV converter.", isBadInput: false)
        }
    }

    /// Hands one frame (`width`×`height` RGBA, `rowBytes` apart) to the encoder thread, shown at
    /// `time` (`MonotonicClock` nanoseconds). Copies it and returns at once; allocates nothing.
    public func submit(_ rgba: UnsafePointer<UInt8>, rowBytes: Int, time: UInt64) {
        let base = frames.producerSlot.pixels
        for y in 0..<height {
            (base + y * width * 4).update(from: rgba + y * rowBytes, count: width * 4)
        }
        frames.publish { slot, _ in slot.time = time }
    }

    /// Frames submitted so far.
    public var submitted: Int { Int(frames.counts.published) }
    /// Frames encoded so far.
    public var encoded: Int { monitor.withLock { encodedCount } }
    /// Frames submitted but never encoded (the encoder was busy with a newer one).
    public var dropped: Int { submitted - encoded }

    /// The encoder thread: the newest frame, until `stopThread` closes the hand-off (a frame
    /// submitted before that is still encoded).
    private func run() {
        while let slot = frames.take(waitingUpTo: nil) {
            encode(slot.pixels, time: slot.time)
        }
    }

    private func encode(_ pixels: UnsafeMutablePointer<UInt8>, time: UInt64) {
        guard failure == nil, let frame, let codec else { return }
        let start = startTime ?? time
        startTime = start
        var pts = Int64((time &- start) / Nanoseconds.millisecond)
        if pts <= lastPTS { pts = lastPTS + 1 }
        lastPTS = pts
        guard av_frame_make_writable(frame) >= 0 else { failure = "the frame buffer is busy"; return }
        var src: [UnsafePointer<UInt8>?] = [UnsafePointer(pixels), nil, nil, nil]
        var srcStride: [Int32] = [Int32(width * 4), 0, 0, 0]
        withUnsafeMutablePointer(to: &frame.pointee.data) { dataTuple in
            dataTuple.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { dst in
                withUnsafeMutablePointer(to: &frame.pointee.linesize) { lineTuple in
                    lineTuple.withMemoryRebound(to: Int32.self, capacity: 8) { dstStride in
                        _ = sws_scale(scaler, &src, &srcStride, 0, Int32(height), dst, dstStride)
                    }
                }
            }
        }
        frame.pointee.pts = pts
        let r = avcodec_send_frame(codec, frame)
        guard r >= 0 else { failure = "the encoder refused a frame"; return }
        drainPackets()
        monitor.withLock { encodedCount += 1 }
    }

    /// Writes every packet the encoder has ready.
    private func drainPackets() {
        guard let codec, let packet, let format, let stream else { return }
        while avcodec_receive_packet(codec, packet) >= 0 {
            av_packet_rescale_ts(packet, codec.pointee.time_base, stream.pointee.time_base)
            packet.pointee.stream_index = stream.pointee.index
            if av_interleaved_write_frame(format, packet) < 0 { failure = "writing the file failed" }
            av_packet_unref(packet)
        }
    }

    private func stopThread() {
        frames.close()
        thread?.join()
        thread = nil
    }

    /// Encodes what is pending, writes the end of the file and gives it its name.
    /// - Returns: frames encoded and frames dropped.
    @discardableResult
    public func finish() throws(RecordingError) -> (frames: Int, dropped: Int) {
        stopThread()
        if let codec {
            avcodec_send_frame(codec, nil)
            drainPackets()
        }
        var trailer: Int32 = 0
        if let format { trailer = av_write_trailer(format) }
        let frames = encoded, lost = submitted - encoded
        close()
        if let failure {
            unlink(temporaryPath)
            throw RecordingError(description: "The recording \(path) failed: \(failure).", isBadInput: false)
        }
        guard trailer >= 0, frames > 0 else {
            unlink(temporaryPath)
            throw RecordingError(description: frames == 0 ? "The recording \(path) holds no frame; nothing was written."
                                                           : "The recording \(path) could not be finished.", isBadInput: false)
        }
        guard rename(temporaryPath, path) == 0 else {
            unlink(temporaryPath)
            throw RecordingError(description: "The recording could not be saved as \(path): \(String(cString: strerror(errno))).", isBadInput: false)
        }
        return (frames, lost)
    }

    /// Stops without keeping anything.
    public func abort() {
        stopThread()
        close()
        unlink(temporaryPath)
    }

    private func close() {
        if let scaler { sws_freeContext(scaler) }
        scaler = nil
        if packet != nil { av_packet_free(&packet) }
        if frame != nil { av_frame_free(&frame) }
        if codec != nil { avcodec_free_context(&codec) }
        if let format {
            if format.pointee.pb != nil { avio_closep(&format.pointee.pb) }
            avformat_free_context(format)
        }
        format = nil
        stream = nil
    }
}
