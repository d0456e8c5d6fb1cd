// libv4l2 and the kernel's V4L2 API (Debian: libv4l-dev).
//
// Swift imports neither function-like macros (VIDIOC_*, V4L2_PIX_FMT_*) nor variadic functions
// (v4l2_open, v4l2_ioctl): the static inline functions below expose exactly those, prefixed ds_.
#include <fcntl.h>
#include <libv4l2.h>
#include <linux/videodev2.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <poll.h>
