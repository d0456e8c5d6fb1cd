// libv4l2 and the kernel's V4L2 API (Debian: libv4l-dev).
//
// Swift imports neither function-like macros (VIDIOC_*, V4L2_PIX_FMT_*) nor variadic functions
// (v4l2_open, v4l2_ioctl): the static inline functions below expose exactly those, prefixed ds_.
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <libv4l2.h>
#include <linux/videodev2.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <poll.h>

// MARK: - libv4l2's variadic entry points

/// `v4l2_open` without a mode (capture never creates files).
///
/// The file is first asked VIDIOC_QUERYCAP through the kernel directly: libv4l2 prints its own
/// messages to stderr when a file is not a V4L2 device, and the caller reports that in one sentence.
/// Fails with the kernel's errno (ENOTTY for /dev/null, a regular file or a procfs file).
static inline int ds_v4l2_open(const char *path, int flags) {
    int probe = open(path, flags | O_CLOEXEC);
    if (probe < 0) return -1;
    struct v4l2_capability caps;
    int r = ioctl(probe, VIDIOC_QUERYCAP, &caps);
    int saved = errno;
    close(probe);
    if (r < 0) { errno = saved; return -1; }
    return v4l2_open(path, flags);
}

/// `v4l2_ioctl` with its one pointer argument.
static inline int ds_v4l2_ioctl(int fd, unsigned long request, void *argument) {
    return v4l2_ioctl(fd, request, argument);
}

// MARK: - ioctl request codes (each expands _IOR/_IOW/_IOWR over a struct size)

static inline unsigned long ds_vidioc_querycap(void) { return VIDIOC_QUERYCAP; }
static inline unsigned long ds_vidioc_enum_fmt(void) { return VIDIOC_ENUM_FMT; }
static inline unsigned long ds_vidioc_g_fmt(void) { return VIDIOC_G_FMT; }
static inline unsigned long ds_vidioc_s_fmt(void) { return VIDIOC_S_FMT; }
static inline unsigned long ds_vidioc_try_fmt(void) { return VIDIOC_TRY_FMT; }
static inline unsigned long ds_vidioc_reqbufs(void) { return VIDIOC_REQBUFS; }
static inline unsigned long ds_vidioc_querybuf(void) { return VIDIOC_QUERYBUF; }
static inline unsigned long ds_vidioc_qbuf(void) { return VIDIOC_QBUF; }
static inline unsigned long ds_vidioc_dqbuf(void) { return VIDIOC_DQBUF; }
static inline unsigned long ds_vidioc_streamon(void) { return VIDIOC_STREAMON; }
static inline unsigned long ds_vidioc_streamoff(void) { return VIDIOC_STREAMOFF; }
static inline unsigned long ds_vidioc_g_parm(void) { return VIDIOC_G_PARM; }
static inline unsigned long ds_vidioc_s_parm(void) { return VIDIOC_S_PARM; }
static inline unsigned long ds_vidioc_enum_framesizes(void) { return VIDIOC_ENUM_FRAMESIZES; }
static inline unsigned long ds_vidioc_enum_frameintervals(void) { return VIDIOC_ENUM_FRAMEINTERVALS; }

// MARK: - Pixel formats (v4l2_fourcc expansions)

static inline unsigned int ds_v4l2_pix_fmt_rgb24(void) { return V4L2_PIX_FMT_RGB24; }
static inline unsigned int ds_v4l2_pix_fmt_bgr24(void) { return V4L2_PIX_FMT_BGR24; }
static inline unsigned int ds_v4l2_pix_fmt_yuyv(void) { return V4L2_PIX_FMT_YUYV; }
static inline unsigned int ds_v4l2_pix_fmt_mjpeg(void) { return V4L2_PIX_FMT_MJPEG; }
static inline unsigned int ds_v4l2_pix_fmt_h264(void) { return V4L2_PIX_FMT_H264; }
