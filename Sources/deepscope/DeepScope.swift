import ArgumentParser
import CAllocationCounter
import CommandLineSupport
import Foundation
import Support

/// The `deepscope` command line. Its commands, options and output formats are a contract that
/// other tools rely on (see DESIGN.md): change them only together with their callers.
@main
struct DeepScope: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deepscope",
        abstract: "Shows what a convolutional network sees, live.",
        subcommands: [Run.self, Classify.self, Forward.self, Project.self, Render.self, Inspect.self, Devices.self,
                      Bench.self, IntrinsicDimension.self, Ctl.self, Replay.self])

    /// Runs a command, mapping failures to the contract's exit statuses in one place
    /// (`mainMappingErrors`): any `DeepScopeError` (every target's errors, and `UserError`) prints
    /// its sentence on stderr and exits 2 for bad input, 1 for failures of the machine or device.
    static func main() {
        setvbuf(stdout, nil, _IOLBF, 0)
        #if arch(x86_64)
        if ds_cpu_supports_avx2_fma() == 0 {
            FileHandle.standardError.write(Data("DeepScope needs a CPU with AVX2 and FMA (x86-64-v3); this one has neither or only one.\n".utf8))
            Foundation.exit(1)
        }
        #endif
        mainMappingErrors()
    }
}

/// An error the command line raises itself: one sentence, and whose fault it is.
struct UserError: DeepScopeError {
    var message: String
    var errorKind: ErrorKind

    /// - Parameter status: the exit status it maps to: 2 (bad input, the default) or 1 (failure).
    init(_ message: String, status: Int32 = 2) {
        self.message = message
        errorKind = status == 1 ? .failure : .badInput
    }

    var description: String { message }
    /// The exit status it maps to.
    var status: Int32 { errorKind.exitStatus }

    /// Wraps any error thrown while reading user-supplied input as bad input.
    static func badInput(_ error: Error) -> UserError {
        if let e = error as? UserError { return e }
        return UserError(String(describing: error))
    }
}
