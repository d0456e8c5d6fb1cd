import ArgumentParser
import CAllocationCounter
import Foundation

/// The `deepscope` command line. Its commands, options and output formats are a contract that
/// other tools rely on (see DESIGN.md): change them only together with their callers.
@main
struct DeepScope: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deepscope",
        abstract: "Shows what a convolutional network sees, live.",
        subcommands: [Run.self, Classify.self, Forward.self, Project.self, Render.self, Inspect.self, Devices.self,
                      Bench.self, CaptureBench.self])

    /// Runs a command, mapping failures to the contract's exit statuses: 2 for bad input (one sentence
    /// on stderr naming the file, node or device at fault), 1 for failures of the machine or device.
    static func main() {
        setvbuf(stdout, nil, _IOLBF, 0)
        #if arch(x86_64)
        if ds_cpu_supports_avx2_fma() == 0 {
            FileHandle.standardError.write(Data("DeepScope needs a CPU with AVX2 and FMA (x86-64-v3); this one has neither or only one.\n".utf8))
            Foundation.exit(1)
        }
        #endif
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as UserError {
            FileHandle.standardError.write(Data((error.message + "\n").utf8))
            Foundation.exit(error.status)
        } catch {
            let code = exitCode(for: error)
            if code == .success || code == .failure || error is ExitCode {
                exit(withError: error)
            }
            // Usage errors (unknown option, missing argument) are bad input too: one line, and
            // `--help` has the rest.
            let sentence = message(for: error).split(separator: "\n").first.map(String.init) ?? "Invalid arguments."
            FileHandle.standardError.write(Data((sentence + " (see --help)\n").utf8))
            Foundation.exit(2)
        }
    }
}

/// An error the user can act on: one sentence, and the exit status it maps to.
struct UserError: Error {
    var message: String
    var status: Int32 = 2

    init(_ message: String, status: Int32 = 2) {
        self.message = message
        self.status = status
    }

    /// Wraps any error thrown while reading user-supplied input as bad input.
    static func badInput(_ error: Error) -> UserError {
        if let e = error as? UserError { return e }
        return UserError(String(describing: error))
    }
}
