import ArgumentParser
import Daemon
import Engine
import Foundation
import Imaging
import ModelIO

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classifies images: the top classes and their probabilities.")

    @OptionGroup var options: ModelOptions

    @Option(name: .long, help: "How many classes to print per image.")
    var top: Int = 5

    @Flag(name: .long, help: "One JSON object per image and line: {\"image\", \"top\": [{\"index\", \"label\", \"prob\"}]}.")
    var json = false

    @Argument(help: "PNG or JPEG images.")
    var images: [String]

    func run() throws {
        guard !images.isEmpty else { throw UserError("classify needs at least one image.") }
        guard top >= 1 else { throw UserError("--top must be at least 1, got \(top).") }
        let (model, network) = try options.load()
        let classifier = try Classifier(model: model, network: network)
        var failed: [String] = []
        for path in images {
            let ranked: [(index: Int, prob: Float)]
            do {
                ranked = try classifier.classify(path: path, top: top)
            } catch {
                FileHandle.standardError.write(Data((UserError.badInput(error).message + "\n").utf8))
                failed.append(path)
                continue
            }
            if json {
                let entries = ranked.map { r -> [String: Any] in
                    ["index": r.index, "label": model.label(r.index), "prob": Double(r.prob)]
                }
                print(try JSONLine.encode(["image": path, "top": entries]))
            } else {
                print(path)
                for r in ranked {
                    print(String(format: "  %6.2f%%  %4d  %@", Double(r.prob) * 100, r.index, model.label(r.index)))
                }
            }
        }
        if !failed.isEmpty { throw ExitCode(2) }
    }
}

/// Preprocesses an image per the model's sidecar, runs the network and ranks the classes.
struct Classifier {
    let model: Model
    let network: Network
    let output: Int
    let outputIsProbability: Bool

    init(model: Model, network: Network) throws {
        self.model = model
        self.network = network
        guard let out = model.graph.outputs.first else {
            throw UserError("The model \(model.url.path) declares no output.")
        }
        output = out
        outputIsProbability = TopClasses.isProbability(out, in: model.graph)
    }

    func prepare(path: String) throws {
        let image = try ImageFile.decode(path: path)
        try ImageFile.prepare(image, preprocessing: model.preprocessing, into: network.input)
    }

    func classify(path: String, top: Int) throws -> [(index: Int, prob: Float)] {
        try prepare(path: path)
        network.forward()
        return TopClasses.best(UnsafeBufferPointer(network.buffer(output)), count: top, isProbability: outputIsProbability)
            .map { ($0.index, $0.probability) }
    }
}

/// Compact one-line JSON with sorted keys (stable output for scripts).
enum JSONLine {
    static func encode(_ object: Any) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
