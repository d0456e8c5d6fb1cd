// Lossless video through FFmpeg: FFV1 (every frame a keyframe) in Matroska, every frame its own
// cluster, flushed to the file as it is written, so that a writer killed at any moment leaves a file whose
// frames up to the last flush decode (Matroska readers take a segment whose size and index were
// never written).

import CFFmpeg
import FFmpegSupport
import Foundation
import Support

/// Encodes packed RGB frames losslessly (FFV1, 8-bit BGR0: the only 8-bit RGB layout its encoder
/// takes) into a Matroska file at `path`.
///
/// The RGB bytes are only reordered (no colour conversion, no scaling), so decoding the
/// file gives back exactly the bytes encoded. Timestamps are in milliseconds. Not thread-safe: one
/// thread drives it after `init`.
public final class LosslessVideoWriter {
    public let path: String
    public let width: Int
    public let height: Int

    private var format: UnsafeMutablePointer<AVFormatContext>?
    private var codec: UnsafeMutablePointer<AVCodecContext>?
    private var stream: UnsafeMutablePointer<AVStream>?
    private var frame: UnsafeMutablePointer<AVFrame>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var lastPTS: Int64 = -1
    /// Frames written to the file and flushed.
    public private(set) var framesWritten = 0
    /// Why writing stopped (nil while it works).
    public private(set) var failure: String?

    /// Creates (or replaces) `path` and writes the Matroska header.
    public init(path: String, width: Int, height: Int) throws(RecordingError) {
        self.path = path
        self.width = width
        self.height = height
        guard width > 0, height > 0 else {
            throw RecordingError(description: "Cannot record \(width)×\(height) frames to \(path).", isBadInput: true)
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
        var r = avformat_alloc_output_context2(&ctx, nil, "matroska", path)
        guard r >= 0, let ctx else { throw fail("FFmpeg cannot write Matroska", r) }
        format = ctx
        guard let encoder = avcodec_find_encoder(AV_CODEC_ID_FFV1) else {
            throw RecordingError(description: "Cannot record to \(path): FFmpeg has no FFV1 encoder.", isBadInput: false)
        }
        guard let c = avcodec_alloc_context3(encoder), let st = avformat_new_stream(ctx, nil) else {
            throw RecordingError(description: "Cannot record to \(path): out of memory.", isBadInput: false)
        }
        codec = c
        stream = st
        c.pointee.width = Int32(width)
        c.pointee.height = Int32(height)
        c.pointee.pix_fmt = AV_PIX_FMT_BGR0
        c.pointee.time_base = AVRational(num: 1, den: 1000)
        c.pointee.framerate = AVRational(num: 30, den: 1)
        c.pointee.gop_size = 1
        if ctx.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 {
            c.pointee.flags |= Int32(bitPattern: UInt32(AV_CODEC_FLAG_GLOBAL_HEADER))
        }
        // Version 3 with slice checksums: a damaged frame is detected, not decoded as garbage.
        c.pointee.level = 3
        av_opt_set(c.pointee.priv_data, "slicecrc", "1", 0)
        r = avcodec_open2(c, encoder, nil)
        guard r >= 0 else { throw fail("the FFV1 encoder did not open", r) }
        r = avcodec_parameters_from_context(st.pointee.codecpar, c)
        guard r >= 0 else { throw fail("the stream could not be set up", r) }
        st.pointee.time_base = c.pointee.time_base
        r = avio_open(&ctx.pointee.pb, path, AVIO_FLAG_WRITE)
        guard r >= 0 else { throw fail("the file could not be created", r) }
        var options: OpaquePointer?
        av_dict_set(&options, "flush_packets", "1", 0)
        r = avformat_write_header(ctx, &options)
        av_dict_free(&options)
        guard r >= 0 else { throw fail("the header could not be written", r) }
        avio_flush(ctx.pointee.pb)
        guard let f = av_frame_alloc(), let p = av_packet_alloc() else {
            throw RecordingError(description: "Cannot record to \(path): out of memory.", isBadInput: false)
        }
        frame = f
        packet = p
        f.pointee.format = AV_PIX_FMT_BGR0.rawValue
        f.pointee.width = Int32(width)
        f.pointee.height = Int32(height)
        r = av_frame_get_buffer(f, 0)
        guard r >= 0 else { throw fail("no frame buffer", r) }
    }

    /// Encodes one `width`×`height` packed RGB frame at `milliseconds` (made strictly increasing)
    /// and flushes it to the file. Does nothing once writing has failed.
    public func encode(_ rgb: UnsafePointer<UInt8>, milliseconds: Int64) {
        guard failure == nil, let frame, let codec else { return }
        var pts = milliseconds
        if pts <= lastPTS { pts = lastPTS + 1 }
        lastPTS = pts
        guard av_frame_make_writable(frame) >= 0 else { failure = "the frame buffer is busy"; return }
        // BGR0: blue, green, red and an unused byte per pixel.
        let plane = frame.pointee.data.0!, stride = Int(frame.pointee.linesize.0)
        for y in 0..<height {
            let row = rgb + y * width * 3
            let out = plane + y * stride
            for x in 0..<width {
                out[4 * x] = row[3 * x + 2]
                out[4 * x + 1] = row[3 * x + 1]
                out[4 * x + 2] = row[3 * x]
                out[4 * x + 3] = 0
            }
        }
        frame.pointee.pts = pts
        guard avcodec_send_frame(codec, frame) >= 0 else { failure = "the encoder refused a frame"; return }
        drainPackets()
    }

    private func drainPackets() {
        guard let codec, let packet, let format, let stream else { return }
        while failure == nil, avcodec_receive_packet(codec, packet) >= 0 {
            av_packet_rescale_ts(packet, codec.pointee.time_base, stream.pointee.time_base)
            packet.pointee.stream_index = stream.pointee.index
            let r = av_write_frame(format, packet)
            av_packet_unref(packet)
            guard r >= 0 else { failure = "writing the file failed (\(ffmpegErrorText(r)))"; return }
            // A null packet flushes the muxer: Matroska ends its cluster, which it otherwise holds in
            // memory until the next one starts.
            let f = av_write_frame(format, nil)
            guard f >= 0 else { failure = "writing the file failed (\(ffmpegErrorText(f)))"; return }
            avio_flush(format.pointee.pb)
            let error = format.pointee.pb.pointee.error
            guard error >= 0 else { failure = "writing the file failed (\(ffmpegErrorText(error)))"; return }
            framesWritten += 1
        }
    }

    /// Flushes the encoder and writes the index and the end of the file.
    /// - Returns: whether the file ends cleanly (false: `failure` says why; the frames written
    ///   before it still decode).
    @discardableResult
    public func finish() -> Bool {
        if failure == nil, let codec {
            avcodec_send_frame(codec, nil)
            drainPackets()
        }
        if failure == nil, let format {
            let r = av_write_trailer(format)
            if r < 0 || format.pointee.pb.pointee.error < 0 {
                failure = "the end of the file could not be written (\(ffmpegErrorText(r < 0 ? r : format.pointee.pb.pointee.error)))"
            }
        }
        release()
        return failure == nil
    }

    private func release() {
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
