// SIGHUP asks the daemon to re-read its configuration file.

#if canImport(Glibc)
import Glibc
#endif
import Synchronization

private let hangups = Atomic<Int>(0)

/// Turns SIGHUP into a reload request that the thread owning the selection polls (the handler
/// only bumps a lock-free counter: async-signal-safe).
public enum ReloadSignal {
    public static func install() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in hangups.add(1, ordering: .relaxed) }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(SIGHUP, &action, nil)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGHUP)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// True once for each burst of SIGHUPs since the last call.
    public static func take() -> Bool { hangups.exchange(0, ordering: .relaxed) > 0 }
}
