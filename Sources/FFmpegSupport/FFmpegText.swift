// What Capture (video files) and Recording (MP4) both need from FFmpeg beyond its C API: the text
// of its error codes and one switch for its own log lines. It lives in a target of its own, over
// CFFmpeg, so that neither of the two imports the other and the support target stays free of C
// libraries.

import CFFmpeg

/// FFmpeg's text for an error code.
public func ffmpegErrorText(_ code: Int32) -> String {
    withUnsafeTemporaryAllocation(of: CChar.self, capacity: 128) { buffer in
        String(cString: ds_av_error_string(code, buffer.baseAddress!, 128))
    }
}

/// FFmpeg's process-wide log.
public enum FFmpegLog {
    private static let quiet: Void = { av_log_set_level(AV_LOG_QUIET) }()

    /// Keeps FFmpeg's own log lines (x264's banner, decoder warnings) off stderr: DeepScope reports
    /// failures itself, one sentence each. Idempotent and cheap after the first call.
    public static func silence() { _ = quiet }
}
