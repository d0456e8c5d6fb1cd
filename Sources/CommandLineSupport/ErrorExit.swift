// How both executables (`deepscope` and `deepscope-bench-capture`) end on an error: the one
// mapping from errors to stderr and the command line's exit statuses.

import ArgumentParser
import Foundation
import Support

extension ParsableCommand {
    /// Parses the arguments and runs the command; on an error, exits with the contract's status:
    /// - any `DeepScopeError` (every target's errors) prints its one sentence on stderr and exits
    ///   2 for bad input, 1 for a failure of the machine or device;
    /// - a usage error (unknown option, missing argument) is bad input too: its first line, a
    ///   pointer to `--help`, exit status 2;
    /// - `--help`, `--version` and explicit exit codes behave as swift-argument-parser has them.
    public static func mainMappingErrors() -> Never {
        do {
            var command = try parseAsRoot()
            try command.run()
            Foundation.exit(0)
        } catch {
            if let (message, status) = errorReport(error) {
                FileHandle.standardError.write(Data((message + "\n").utf8))
                Foundation.exit(status)
            }
            let code = exitCode(for: error)
            if code == .success || code == .failure || error is ExitCode {
                exit(withError: error)
            }
            let sentence = message(for: error).split(separator: "\n").first.map(String.init) ?? "Invalid arguments."
            FileHandle.standardError.write(Data((sentence + " (see --help)\n").utf8))
            Foundation.exit(2)
        }
    }
}
