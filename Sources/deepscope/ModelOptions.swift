import ArgumentParser
import Daemon
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
        assetPath("models/efficientnet-lite0.onnx") ?? defaultModelRelativePath
    }

    /// `Assets/<relative>` where it exists: under `$DEEPSCOPE_ASSETS`, the working directory, or
    /// the package root above the executable (`.build/<config>/deepscope`).
    static func assetPath(_ relative: String) -> String? {
        var candidates: [String] = []
        if let assets = ProcessInfo.processInfo.environment["DEEPSCOPE_ASSETS"] {
            candidates.append((assets as NSString).appendingPathComponent(relative))
        }
        candidates.append("Assets/" + relative)
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(dir.appendingPathComponent("Assets/" + relative).path)
            dir = dir.deletingLastPathComponent()
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    /// The inference threads: --threads, else $DEEPSCOPE_THREADS, else every active core.
    func threadCount() throws -> Int {
        if let t = threads, t < 1 || t > 256 {
            throw UserError("--threads must be between 1 and 256, got \(t).")
        }
        let environment = ProcessInfo.processInfo.environment["DEEPSCOPE_THREADS"].flatMap { Int($0) }
        return threads ?? environment ?? ProcessInfo.processInfo.activeProcessorCount
    }

    /// The model file to load, checked to exist when it is the default.
    func checkedModelPath() throws -> String {
        let path = modelPath
        if model == nil && !FileManager.default.fileExists(atPath: path) {
            throw UserError("The default model \(path) does not exist; run Scripts/setup to create it, or pass --model.")
        }
        return path
    }

    /// Loads and plans the model the way a session does; any problem with the file is bad input.
    func load() throws -> (Model, Network) {
        let count = try threadCount()
        let path = try checkedModelPath()
        do throws(SessionError) { return try Session.loadModel(path: path, threads: count) } catch {
            throw UserError(error.description)
        }
    }
}
