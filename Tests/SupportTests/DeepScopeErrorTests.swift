import Support
import Testing

private enum SampleError: DeepScopeError {
    case missingFile(String)
    case diskFull(String)

    var description: String {
        switch self {
        case .missingFile(let path): return "The file \(path) does not exist."
        case .diskFull(let path): return "\(path) could not be written: no space left on device."
        }
    }

    var errorKind: ErrorKind {
        switch self {
        case .missingFile: return .badInput
        case .diskFull: return .failure
        }
    }
}

private struct PlainError: Error {}

@Suite("DeepScopeError")
struct DeepScopeErrorTests {
    @Test("bad input exits 2, a failure exits 1")
    func exitStatuses() {
        #expect(ErrorKind.badInput.exitStatus == 2)
        #expect(ErrorKind.failure.exitStatus == 1)
    }

    @Test("errorReport gives any DeepScopeError's sentence and status, and nothing for other errors")
    func reports() {
        let bad: any Error = SampleError.missingFile("/x.png")
        let report = errorReport(bad)
        #expect(report?.message == "The file /x.png does not exist.")
        #expect(report?.status == 2)
        let failed = errorReport(SampleError.diskFull("/y.npy"))
        #expect(failed?.message == "/y.npy could not be written: no space left on device.")
        #expect(failed?.status == 1)
        #expect(errorReport(PlainError()) == nil)
    }
}
