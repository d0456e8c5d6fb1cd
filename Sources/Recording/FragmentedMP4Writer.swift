// H.264 in fragmented MP4 through FFmpeg: a file that plays up to its last fragment, whenever the
// writer stops (a crash, SIGKILL, a full disk), because its index is written ahead of the frames
// (`empty_moov`) and every fragment carries its own (`moof`).

import CFFmpeg
import FFmpegSupport
import Foundation
import Support

/// Encodes RGBA frames to H.264 (libx264, yuv420p; MPEG-4 Part 2 where FFmpeg has no x264) and
/// writes them as fragmented MP4 at `path` itself, from the first byte.
///
/// A keyframe starts every `keyframeInterval` of video time, and each keyframe starts a fragment
/// (`movflags=frag_keyframe+empty_moov+default_base_moof`); the finished fragment is flushed to
/// the file at once, so a writer killed at any moment leaves a file that plays up to the last
/// keyframe — at most about one interval is lost. When a write fails (a full disk, a file size
/// limit) the file is cut back to the end of the last complete fragment, so it still plays.
///
/// Not thread-safe: one thread (the recorder's encoder thread) drives it after `init`.
final class FragmentedMP4Writer {
    let path: String
    /// The size of the frames given to `encode`, and of the video (rounded down to even numbers).
    let width: Int
    let height: Int
    let videoWidth: Int
    let videoHeight: Int
    /// Video time between keyframes, in milliseconds.
    let keyframeInterval: Int64

    private var format: UnsafeMutablePointer<AVFormatContext>?
    private var codec: UnsafeMutablePointer<AVCodecContext>?
    private var stream: UnsafeMutablePointer<AVStream>?
    private var frame: UnsafeMutablePointer<AVFrame>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var scaler: OpaquePointer?
    private var lastPTS: Int64 = -1
    private var lastKeyPTS: Int64 = .min
    /// The file's identity when it was created, to notice it being deleted or its folder vanishing.
    private var identity: (device: UInt64, inode: UInt64) = (0, 0)

    /// Bytes of the file that hold complete fragments (the header included), and the video time
    /// they cover (milliseconds); what is kept when a later write fails.
    private(set) var completeBytes: Int64 = 0
    private(set) var completeDuration: Int64 = 0
    /// Frames encoded, and of those in complete fragments.
    private(set) var framesEncoded = 0
    private(set) var framesComplete = 0
    /// Packets (frames) handed to the muxer.
    private var framesWritten = 0
    /// Why writing stopped (nil while it works).
    private(set) var failure: String?

    /// Creates (or replaces) `path` and writes the MP4 header.
    init(path: String, width: Int, height: Int, keyframeInterval: Int64 = 1000) throws(RecordingError) {
        self.path = path
        self.width = width
        self.height = height
        videoWidth = width & ~1
        videoHeight = height & ~1
        self.keyframeInterval = max(keyframeInterval, 1)
        guard videoWidth >= 16, videoHeight >= 16 else {
            throw RecordingError(description: "Cannot record a \(width)×\(height) view to \(path): it is too small to encode.", isBadInput: true)
        }
        do {
            try open()
        } catch {
            let created = format?.pointee.pb != nil
            release()
            if created { unlink(path) }
            throw error
        }
    }

    deinit { release() }

    private func fail(_ what: String, _ code: Int32) -> RecordingError {
        RecordingError(description: "Cannot record to \(path): \(what) (\(ffmpegErrorText(code))).", isBadInput: false)
    }

    private func open() throws(RecordingError) {
        FFmpegLog.silence()
        var ctx: UnsafeMutablePointer<AVFormatContext>?
        var r = avformat_alloc_output_context2(&ctx, nil, "mp4", path)
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
        // Keyframes are forced by video time (see `encode`); this only bounds x264's own choice.
        c.pointee.gop_size = 600
        c.pointee.max_b_frames = 0
        if ctx.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 {
            c.pointee.flags |= Int32(bitPattern: UInt32(AV_CODEC_FLAG_GLOBAL_HEADER))
        }
        if String(cString: encoder.pointee.name) == "libx264" {
            av_opt_set(c.pointee.priv_data, "preset", "ultrafast", 0)
            av_opt_set(c.pointee.priv_data, "tune", "zerolatency", 0)
            av_opt_set(c.pointee.priv_data, "crf", "23", 0)
            // A forced keyframe is an IDR frame: a fragment that starts with it decodes on its own.
            av_opt_set(c.pointee.priv_data, "forced-idr", "1", 0)
        } else {
            c.pointee.bit_rate = 8_000_000
        }
        r = avcodec_open2(c, encoder, nil)
        guard r >= 0 else { throw fail("the encoder did not open", r) }
        r = avcodec_parameters_from_context(st.pointee.codecpar, c)
        guard r >= 0 else { throw fail("the stream could not be set up", r) }
        st.pointee.time_base = c.pointee.time_base
        r = avio_open(&ctx.pointee.pb, path, AVIO_FLAG_WRITE)
        guard r >= 0 else { throw fail("the file could not be created", r) }
        var options: OpaquePointer?
        av_dict_set(&options, "movflags", "frag_keyframe+empty_moov+default_base_moof", 0)
        r = avformat_write_header(ctx, &options)
        av_dict_free(&options)
        guard r >= 0 else { throw fail("the header could not be written", r) }
        avio_flush(ctx.pointee.pb)
        guard ctx.pointee.pb.pointee.error >= 0 else { throw fail("the header could not be written", ctx.pointee.pb.pointee.error) }
        completeBytes = avio_tell(ctx.pointee.pb)
        var info = stat()
        if stat(path, &info) == 0 { identity = (UInt64(info.st_dev), UInt64(info.st_ino)) }
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

    /// Encodes one `width`×`height` RGBA frame (tightly packed) shown at `milliseconds` of video
    /// time (made strictly increasing here). Does nothing once writing has failed.
    func encode(_ pixels: UnsafePointer<UInt8>, milliseconds: Int64) {
        guard failure == nil, let frame, let codec else { return }
        var pts = milliseconds
        if pts <= lastPTS { pts = lastPTS + 1 }
        lastPTS = pts
        guard av_frame_make_writable(frame) >= 0 else { stop(because: "the frame buffer is busy"); return }
        var src: [UnsafePointer<UInt8>?] = [pixels, nil, nil, nil]
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
        if lastKeyPTS == .min || pts - lastKeyPTS >= keyframeInterval {
            frame.pointee.pict_type = AV_PICTURE_TYPE_I
            lastKeyPTS = pts
        } else {
            frame.pointee.pict_type = AV_PICTURE_TYPE_NONE
        }
        guard avcodec_send_frame(codec, frame) >= 0 else { stop(because: "the encoder refused a frame"); return }
        framesEncoded += 1
        drainPackets()
    }

    /// Writes every packet the encoder has ready; a keyframe closes the fragment before it, which
    /// is flushed to the file at once.
    private func drainPackets() {
        guard let codec, let packet, let format, let stream else { return }
        while failure == nil, avcodec_receive_packet(codec, packet) >= 0 {
            let key = packet.pointee.flags & AV_PKT_FLAG_KEY != 0
            let pts = packet.pointee.pts
            av_packet_rescale_ts(packet, codec.pointee.time_base, stream.pointee.time_base)
            packet.pointee.stream_index = stream.pointee.index
            let r = av_interleaved_write_frame(format, packet)
            av_packet_unref(packet)
            guard r >= 0 else { stop(because: "writing the file failed (\(ffmpegErrorText(r)))"); return }
            framesWritten += 1
            guard key else { continue }
            // The fragment before this keyframe is now complete: put it on the disk.
            avio_flush(format.pointee.pb)
            let error = format.pointee.pb.pointee.error
            guard error >= 0 else { stop(because: "writing the file failed (\(ffmpegErrorText(error)))"); return }
            guard stillInPlace() else { stop(because: "the file or its folder was removed"); return }
            completeBytes = avio_tell(format.pointee.pb)
            completeDuration = pts
            // Frames in complete fragments: all but this keyframe (one packet per frame, no B-frames).
            framesComplete = framesWritten - 1
        }
    }

    private func stillInPlace() -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && UInt64(info.st_dev) == identity.device && UInt64(info.st_ino) == identity.inode
    }

    /// Stops writing: the file is cut back to its complete fragments when it is closed.
    private func stop(because reason: String) {
        if failure == nil { failure = reason }
    }

    /// Flushes the encoder and writes the last fragment. After a failure, closes the file cut back
    /// to its complete fragments instead.
    /// - Returns: whether the file ends cleanly (false: `failure` says why).
    @discardableResult
    func finish() -> Bool {
        if failure == nil, let codec {
            avcodec_send_frame(codec, nil)
            drainPackets()
        }
        if failure == nil, let format {
            let r = av_write_trailer(format)
            if r < 0 || format.pointee.pb.pointee.error < 0 {
                stop(because: "the end of the file could not be written (\(ffmpegErrorText(r < 0 ? r : format.pointee.pb.pointee.error)))")
            } else {
                framesComplete = framesWritten
                completeDuration = lastPTS
            }
        }
        let failed = failure != nil
        release()
        // Whatever a failed write left after the last complete fragment is cut off, so that the
        // file plays to its end (a file that vanished stays vanished).
        if failed, identity.inode != 0, stillInPlace() { truncate(path, off_t(completeBytes)) }
        return !failed
    }

    private func release() {
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
