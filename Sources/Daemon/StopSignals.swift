// SIGINT and SIGTERM ask the daemon to stop cleanly; a second one ends it at once.

#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Signals received since `StopSignals.install` (read by the main loop, written by the handler).
private let receivedSignals = Atomic<Int>(0)
private let lastSignal = Atomic<Int32>(0)

/// Turns SIGINT and SIGTERM into a stop request the main loop polls.
///
/// The handler only touches two lock-free atomics (async-signal-safe). The first signal asks for a
/// clean stop (threads joined, camera streamed off, buffers unmapped); a second one, for a stop that
/// hangs, exits at once with status 128 + signal.
public enum StopSignals {
    /// Installs the handlers for SIGINT and SIGTERM.
    public static func install() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signal in
            lastSignal.store(signal, ordering: .relaxed)
            if receivedSignals.add(1, ordering: .relaxed).newValue >= 2 { _exit(128 + signal) }
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(SIGINT, &action, nil)
        sigaction(SIGTERM, &action, nil)
        // A parent may have started us with these signals blocked (the mask is inherited): unblock
        // them in this thread, and so in every thread started after it.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Puts back the default dispositions (tests).
    public static func uninstall() {
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }

    /// Whether a stop was asked for.
    public static var requested: Bool { receivedSignals.load(ordering: .relaxed) > 0 }

    /// The name of the last signal received ("SIGINT", "SIGTERM"), or nil.
    public static var lastSignalName: String? {
        switch lastSignal.load(ordering: .relaxed) {
        case 0: return nil
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        case let s: return "signal \(s)"
        }
    }

    /// Asks for a stop as a signal would (tests, and a future control socket).
    public static func request() { receivedSignals.add(1, ordering: .relaxed) }

    /// Forgets past requests (tests).
    public static func reset() {
        receivedSignals.store(0, ordering: .relaxed)
        lastSignal.store(0, ordering: .relaxed)
    }
}
