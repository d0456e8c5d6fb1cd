import CSDL2
import Synchronization
import Visualization
#if canImport(Glibc)
import Glibc
#endif

/// Why the window could not be opened: one sentence.
public struct WindowError: Error, CustomStringConvertible {
    public var description: String
    /// True when there is no display at all (as opposed to a display that refused the window).
    public var noDisplay: Bool
}

/// What the window reports, besides the user's input.
public enum WindowEvent: Sendable, Equatable {
    case input(InputEvent)
    /// The drawable size changed (pixels).
    case resized(width: Int, height: Int)
    /// Close button, window manager or SDL_QUIT.
    case quit
    /// `Window.wake()` was called (a new snapshot is ready).
    case wake
    /// The window needs drawing again (exposed, restored).
    case exposed
}

/// The SDL2 window: one streaming texture the size of the drawable, a canvas presented into it,
/// and SDL's events translated into `WindowEvent`s. Use from the thread that created it (the
/// main thread); only `wake()` may be called from any thread.
public final class SDLWindow {
    public private(set) var pixelWidth: Int
    public private(set) var pixelHeight: Int
    /// Drawable pixels per window point (2 on a HiDPI screen).
    public private(set) var pixelScale: Int = 1
    public let rendererName: String

    private let window: OpaquePointer
    private let renderer: OpaquePointer
    private var texture: OpaquePointer?
    private var textureWidth = 0
    private var textureHeight = 0
    private var pending: [WindowEvent] = []
    private var fullscreen = false

    /// The registered SDL event type `wake()` posts, and whether one is already queued.
    nonisolated(unsafe) private static var wakeType: UInt32 = 0
    private static let wakeQueued = Atomic<Bool>(false)

    /// Opens a resizable, HiDPI-aware window of `width`×`height` points.
    public init(title: String, width: Int, height: Int) throws(WindowError) {
        SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1")   // SIGINT/SIGTERM stay ours
        SDL_SetHint(SDL_HINT_VIDEO_X11_NET_WM_BYPASS_COMPOSITOR, "0")
        func isSet(_ name: String) -> Bool { getenv(name).map { $0.pointee != 0 } ?? false }
        if !isSet("DISPLAY") && !isSet("WAYLAND_DISPLAY") && !isSet("SDL_VIDEODRIVER") {
            // Nothing to connect to: do not let SDL probe (and complain about) every driver.
            throw WindowError(description: "No display to open a window on (DISPLAY and WAYLAND_DISPLAY are not set); use `deepscope run --headless`, or `deepscope render` to draw the window into a PNG.",
                              noDisplay: true)
        }
        if SDL_WasInit(SDL_INIT_VIDEO) == 0 && SDL_InitSubSystem(SDL_INIT_VIDEO) != 0 {
            let reason = String(cString: SDL_GetError())
            throw WindowError(description: "No display to open a window on (\(reason)); use `deepscope run --headless`, or `deepscope render` to draw the window into a PNG.",
                              noDisplay: true)
        }
        // SDL falls back to its `offscreen` or `dummy` driver when there is no display: a window
        // nobody can see. That is "no display" too, unless the user chose the driver.
        let driver = SDL_GetCurrentVideoDriver().map { String(cString: $0) } ?? ""
        if ["offscreen", "dummy"].contains(driver.lowercased()), !isSet("SDL_VIDEODRIVER") {
            SDL_QuitSubSystem(SDL_INIT_VIDEO)
            throw WindowError(description: "No display to open a window on (only SDL's \(driver) driver is available); use `deepscope run --headless`, or `deepscope render` to draw the window into a PNG.",
                              noDisplay: true)
        }
        let flags = SDL_WINDOW_RESIZABLE.rawValue | SDL_WINDOW_ALLOW_HIGHDPI.rawValue
        guard let w = SDL_CreateWindow(title, Int32(ds_sdl_windowpos_centered()), Int32(ds_sdl_windowpos_centered()),
                                       Int32(width), Int32(height), flags) else {
            let reason = String(cString: SDL_GetError())
            SDL_QuitSubSystem(SDL_INIT_VIDEO)
            throw WindowError(description: "The display refused a \(width)×\(height) window: \(reason).", noDisplay: false)
        }
        guard let r = SDL_CreateRenderer(w, -1, 0)
                ?? SDL_CreateRenderer(w, -1, SDL_RENDERER_SOFTWARE.rawValue) else {
            let reason = String(cString: SDL_GetError())
            SDL_DestroyWindow(w)
            SDL_QuitSubSystem(SDL_INIT_VIDEO)
            throw WindowError(description: "No renderer for the window: \(reason).", noDisplay: false)
        }
        window = w
        renderer = r
        var info = SDL_RendererInfo()
        SDL_GetRendererInfo(r, &info)
        rendererName = info.name.map { String(cString: $0) } ?? "unknown"
        if SDLWindow.wakeType == 0 { SDLWindow.wakeType = SDL_RegisterEvents(1) }
        pixelWidth = width; pixelHeight = height
        updateSize()
        pending.reserveCapacity(64)
    }

    deinit {
        if let texture { SDL_DestroyTexture(texture) }
        SDL_DestroyRenderer(renderer)
        SDL_DestroyWindow(window)
        SDL_QuitSubSystem(SDL_INIT_VIDEO)
    }

    /// The X11 window id (what xdotool and import take as --window); 0 on other video drivers.
    public var systemWindowID: UInt { UInt(ds_sdl_x11_window(window)) }

    /// Wakes the window's event wait from any thread. Posts at most one event until the window
    /// has seen it, so a fast producer never floods the queue.
    public static func wake() {
        guard wakeType != 0, !wakeQueued.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var e = SDL_Event()
        e.type = wakeType
        if SDL_PushEvent(&e) != 1 { wakeQueued.store(false, ordering: .releasing) }
    }

    /// Waits up to `timeout` milliseconds for events, then takes every queued one. The returned
    /// array is reused by the next call.
    public func events(timeout: Int) -> [WindowEvent] {
        pending.removeAll(keepingCapacity: true)
        var e = SDL_Event()
        guard SDL_WaitEventTimeout(&e, Int32(max(0, timeout))) == 1 else { return pending }
        translate(e)
        while SDL_PollEvent(&e) == 1 { translate(e) }
        return pending
    }

    private func translate(_ e: SDL_Event) {
        let s = Int(pixelScale)
        switch e.type {
        case SDL_QUIT.rawValue:
            pending.append(.quit)
        case SDLWindow.wakeType:
            SDLWindow.wakeQueued.store(false, ordering: .releasing)
            pending.append(.wake)
        case SDL_WINDOWEVENT.rawValue:
            switch UInt32(e.window.event) {
            case SDL_WINDOWEVENT_SIZE_CHANGED.rawValue, SDL_WINDOWEVENT_RESIZED.rawValue:
                updateSize()
                pending.append(.resized(width: pixelWidth, height: pixelHeight))
            case SDL_WINDOWEVENT_LEAVE.rawValue:
                pending.append(.input(.mouseLeft))
            case SDL_WINDOWEVENT_EXPOSED.rawValue, SDL_WINDOWEVENT_RESTORED.rawValue, SDL_WINDOWEVENT_SHOWN.rawValue:
                pending.append(.exposed)
            case SDL_WINDOWEVENT_CLOSE.rawValue:
                pending.append(.quit)
            default: break
            }
        case SDL_MOUSEMOTION.rawValue:
            pending.append(.input(.mouseMove(x: Int(e.motion.x) * s, y: Int(e.motion.y) * s)))
        case SDL_MOUSEBUTTONDOWN.rawValue:
            let b = Int32(e.button.button)
            guard b == ds_sdl_button_left() || b == ds_sdl_button_right() else { return }
            pending.append(.input(.mouseDown(x: Int(e.button.x) * s, y: Int(e.button.y) * s, right: b == ds_sdl_button_right())))
        case SDL_MOUSEWHEEL.rawValue:
            var dy = Int(e.wheel.y)
            if e.wheel.direction == SDL_MOUSEWHEEL_FLIPPED.rawValue { dy = -dy }
            if dy != 0 { pending.append(.input(.wheel(dy: dy))) }
        case SDL_KEYDOWN.rawValue:
            let shift = (UInt32(e.key.keysym.mod) & UInt32(KMOD_SHIFT.rawValue)) != 0
            if let key = SDLWindow.key(e.key.keysym.sym) { pending.append(.input(.key(key, shift: shift))) }
        default:
            break
        }
    }

    /// SDL keycode → `Key`; nil for keys the window has no use for.
    static func key(_ sym: SDL_Keycode) -> Key? {
        let code = UInt32(bitPattern: sym)
        switch code {
        case SDLK_LEFT.rawValue: return .left
        case SDLK_RIGHT.rawValue: return .right
        case SDLK_UP.rawValue: return .up
        case SDLK_DOWN.rawValue: return .down
        case SDLK_PAGEUP.rawValue: return .pageUp
        case SDLK_PAGEDOWN.rawValue: return .pageDown
        case SDLK_HOME.rawValue: return .home
        case SDLK_END.rawValue: return .end
        case SDLK_SPACE.rawValue: return .space
        case SDLK_ESCAPE.rawValue: return .escape
        case SDLK_RETURN.rawValue, SDLK_KP_ENTER.rawValue: return .enter
        case SDLK_TAB.rawValue: return .tab
        case SDLK_F11.rawValue: return .f11
        case 0x21...0x7E:
            guard let scalar = UnicodeScalar(code) else { return nil }
            return .character(Character(String(scalar).lowercased()))
        default:
            return nil
        }
    }

    private func updateSize() {
        var ww: Int32 = 0, wh: Int32 = 0, pw: Int32 = 0, ph: Int32 = 0
        SDL_GetWindowSize(window, &ww, &wh)
        SDL_GetRendererOutputSize(renderer, &pw, &ph)
        pixelWidth = max(1, Int(pw)); pixelHeight = max(1, Int(ph))
        pixelScale = ww > 0 ? max(1, Int((Double(pw) / Double(ww)).rounded())) : 1
    }

    /// Shows `canvas` (which must be the drawable's size; a stale size is stretched once).
    public func present(_ canvas: Canvas) {
        if texture == nil || textureWidth != canvas.width || textureHeight != canvas.height {
            if let texture { SDL_DestroyTexture(texture) }
            texture = SDL_CreateTexture(renderer, ds_sdl_pixelformat_rgba32(), Int32(SDL_TEXTUREACCESS_STREAMING.rawValue),
                                        Int32(canvas.width), Int32(canvas.height))
            textureWidth = canvas.width; textureHeight = canvas.height
        }
        guard let texture else { return }
        SDL_UpdateTexture(texture, nil, canvas.pixels, Int32(canvas.width * 4))
        SDL_RenderClear(renderer)
        SDL_RenderCopy(renderer, texture, nil, nil)
        SDL_RenderPresent(renderer)
    }

    /// Switches between a window and the desktop's full screen.
    public func toggleFullscreen() {
        fullscreen.toggle()
        SDL_SetWindowFullscreen(window, fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP.rawValue : 0)
        updateSize()
    }

    public var isFullscreen: Bool { fullscreen }
}
