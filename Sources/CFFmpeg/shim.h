// FFmpeg's libavformat, libavcodec, libswscale and libavutil (Debian: libav*-dev).
//
// Swift does not import function-like or complex macros (AVERROR(e), AVERROR_EOF,
// AV_NOPTS_VALUE): static inline functions below expose them, prefixed ds_.
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

/// `AVERROR(e)`: the FFmpeg error code for a POSIX errno value.
static inline int ds_averror(int posixError) { return AVERROR(posixError); }

/// `AVERROR_EOF`: the end of a stream.
static inline int ds_averror_eof(void) { return AVERROR_EOF; }

/// `AVERROR_STREAM_NOT_FOUND`: `av_find_best_stream` found no stream of the type asked for.
static inline int ds_averror_stream_not_found(void) { return AVERROR_STREAM_NOT_FOUND; }

/// `AVERROR_DECODER_NOT_FOUND`: a stream exists but FFmpeg has no decoder for it.
static inline int ds_averror_decoder_not_found(void) { return AVERROR_DECODER_NOT_FOUND; }

/// `AV_NOPTS_VALUE`: "no timestamp".
static inline int64_t ds_av_nopts_value(void) { return AV_NOPTS_VALUE; }

/// `av_err2str` is a macro over a compound literal; this writes the message into `buffer`.
static inline const char *ds_av_error_string(int error, char *buffer, size_t size) {
    av_strerror(error, buffer, size);
    return buffer;
}
