import Daemon
import Foundation
import Logging

extension Run {
    /// Log lines on stderr, one per event, with a level (the journal keeps them under systemd).
    static func bootstrapLogging() -> Logger {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        return Logger(label: "deepscope")
    }

    /// The control socket, sd_notify and SIGHUP reloads. A socket given in the configuration must
    /// open (exit 1 otherwise); the default one is skipped with a warning when another daemon
    /// holds it, so that two windows can run side by side.
    func makeControl(file: DaemonConfiguration, recordings: String, logger: Logger) throws -> DaemonControl {
        let environment = ProcessInfo.processInfo.environment
        let notifier = ServiceNotifier(environment: environment)
        var overridden: Set<String> = []
        if source != nil { overridden.insert("source") }
        if model.model != nil { overridden.insert("model") }
        if layer != nil { overridden.insert("layer") }
        if unit != nil { overridden.insert("unit") }
        if mode != nil { overridden.insert("mode") }
        if snapshotDir != nil { overridden.insert("recordings") }
        let path = ControlServer.defaultPath(configured: file.socket, environment: environment)
        do throws(ControlSocketError) {
            return try DaemonControl(socketPath: path, configPath: config, configuration: file, overridden: overridden,
                                     recordings: recordings, metricsAddress: file.metrics, notifier: notifier, logger: logger)
        } catch {
            if file.socket != nil || error.metrics { throw error }
            logger.warning("\(error.description) Running without a control socket.")
            return try DaemonControl(socketPath: nil, configPath: config, configuration: file, overridden: overridden,
                                     recordings: recordings, metricsAddress: file.metrics, notifier: notifier, logger: logger)
        }
    }
}
