// SDL2 and SDL2_ttf for Swift, plus the macros Swift cannot import, as plain inline functions.
#ifndef DEEPSCOPE_CSDL2_SHIM_H
#define DEEPSCOPE_CSDL2_SHIM_H
#include <SDL.h>
#include <SDL_ttf.h>
#include <SDL_syswm.h>

static inline int ds_sdl_windowpos_centered(void) { return (int)SDL_WINDOWPOS_CENTERED; }
static inline int ds_sdl_windowpos_undefined(void) { return (int)SDL_WINDOWPOS_UNDEFINED; }
static inline Uint32 ds_sdl_pixelformat_abgr8888(void) { return SDL_PIXELFORMAT_ABGR8888; }
static inline Uint32 ds_sdl_pixelformat_rgba32(void) { return SDL_PIXELFORMAT_RGBA32; }
static inline int ds_sdl_button_left(void) { return SDL_BUTTON_LEFT; }
static inline int ds_sdl_button_right(void) { return SDL_BUTTON_RIGHT; }

/// The X11 window id of an SDL window (0 when it is not an X11 window): what xdotool and import
/// take as --window.
static inline unsigned long ds_sdl_x11_window(SDL_Window *window) {
    SDL_SysWMinfo info;
    SDL_VERSION(&info.version);
    if (!SDL_GetWindowWMInfo(window, &info)) return 0;
#if defined(SDL_VIDEO_DRIVER_X11)
    if (info.subsystem == SDL_SYSWM_X11) return (unsigned long)info.info.x11.window;
#endif
    return 0;
}

#endif
