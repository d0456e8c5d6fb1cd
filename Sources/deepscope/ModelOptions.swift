import ArgumentParser
import Engine
import Foundation
import ModelIO

/// `--model` and `--threads`, shared by the commands that run a network.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "ONNX model file (default: the EfficientNet-Lite0 that Scripts/setup converts).")
    var model: String?

    @Option(name: .long, help: "Threads for inference (default: $DEEPSCOPE_THREADS, else all active cores).")
    var threads: Int?

    /// The model path given, or the default model found beside the working directory or the executable.
    var modelPath: String { model ?? ModelOptions.defaultModelPath() }

    static let defaultModelRelativePath = "Assets/models/efficientnet-lite0.onnx"

    static func defaultModelPath() -> String {
        var candidates: [String] = []
        if let assets = ProcessInfo.processInfo.environment["DEEPSCOPE_ASSETS"] {
            candidates.append((assets as NSString).appendingPathComponent("models/efficientnet-lite0.onnx"))
        }
        candidates.append(defaultModelRelativePath)
        // .build/<config>/deepscope → the package root, three levels up.
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(dir.appendingPathComponent(defaultModelRelativePath).path)
            dir = dir.deletingLastPathComponent()
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0) } ?? defaultModelRelativePath
    }

    /// Loads and plans the model; any problem with the file is bad input.
    func load() throws -> (Model, Network) {
        if let t = threads, t < 1 || t > 256 {
            throw UserError("--threads must be between 1 and 256, got \(t).")
        }
        let path = modelPath
        if model == nil && !FileManager.default.fileExists(atPath: path) {
            throw UserError("The default model \(path) does not exist; run Scripts/setup to create it, or pass --model.")
        }
        let loaded: Model
        do { loaded = try ModelLoader.load(path: path) } catch { throw UserError.badInput(error) }
        let environment = ProcessInfo.processInfo.environment["DEEPSCOPE_THREADS"].flatMap { Int($0) }
        let count = threads ?? environment ?? ProcessInfo.processInfo.activeProcessorCount
        let network = Network(graph: loaded.graph, threads: min(max(count, 1), 256))
        return (loaded, network)
    }
}
