// FFmpeg's libavformat, libavcodec, libswscale and libavutil (Debian: libav*-dev).
//
// Swift does not import function-like or complex macros (AVERROR(e), AVERROR_EOF,
// AV_NOPTS_VALUE): static inline functions below expose them, prefixed ds_.
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
