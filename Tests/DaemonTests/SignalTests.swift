import Daemon
import Glibc
import Testing

@Suite("Stop signals", .serialized)
struct SignalTests {
    @Test("SIGTERM and SIGINT become a stop request with the signal's name", arguments: [SIGTERM, SIGINT])
    func request(signal: Int32) {
        StopSignals.install()
        StopSignals.reset()
        defer {
            StopSignals.reset()
            StopSignals.uninstall()
        }
        #expect(!StopSignals.requested)
        // The test runner may block these signals in its worker threads; the daemon's main thread
        // does not, so unblock them here as it would be.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, signal)
        var old = sigset_t()
        pthread_sigmask(SIG_UNBLOCK, &set, &old)
        defer { pthread_sigmask(SIG_SETMASK, &old, nil) }
        raise(signal)
        #expect(StopSignals.requested)
        #expect(StopSignals.lastSignalName == (signal == SIGTERM ? "SIGTERM" : "SIGINT"))
    }
}
