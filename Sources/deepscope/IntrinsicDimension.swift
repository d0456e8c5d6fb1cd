import Analysis
import ArgumentParser
import CBLAS
import Engine
import Foundation
import Interface
import ModelIO
import Visualization

struct IntrinsicDimension: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "id",
        abstract: "The intrinsic dimension (TwoNN) and PCA-90 of a point set, or of each layer's representation of a folder of images.",
        discussion: """
        TwoNN (Facco et al. 2017): the ratio of each point's second- to first-nearest-neighbour \
        distance, a Pareto fit with the largest 10% of the ratios left out; exact neighbours among \
        distinct points (repeated rows are left out and counted). "std" is the estimate's standard \
        deviation over 5 random halves (20 points or more). "pca90": the principal components that \
        hold 90% of the variance. With --images, every image's layer output is one point (C·H·W \
        coordinates), as in Ansuini et al. 2019; "depth" is the layer's relative depth.
        """)

    @Option(name: .long, help: "An [N, D] float32 .npy array: N points of dimension D.")
    var points: String?

    @Option(name: .long, help: "A folder of PNG and JPEG images (searched recursively), one point per image and layer.")
    var images: String?

    @OptionGroup var options: ModelOptions

    @Option(name: .long, help: "With --images: 'all' (every layer) or layer names separated by commas.")
    var layers: String = "all"

    @Flag(name: .long, help: "One JSON object per line: {\"id\", \"n\", …} for --points, {\"layer\", \"depth\", \"id\", \"pca90\", …} per layer for --images.")
    var json = false

    @Option(name: .long, help: "With --images: draw the intrinsic dimension and PCA-90 against relative depth into this PNG.")
    var plot: String?

    /// Representations held in memory at once; more layers take more passes over the images.
    static let memoryBudget = 4 << 30

    func validate() throws {
        guard (points == nil) != (images == nil) else {
            throw ValidationError("Give exactly one of --points X.npy and --images DIR.")
        }
        if plot != nil && images == nil {
            throw ValidationError("--plot draws one point per layer, so it needs --images DIR.")
        }
    }

    func run() throws {
        openblas_set_num_threads(Int32(ProcessInfo.processInfo.activeProcessorCount))
        if let points { try runOnPoints(points) } else if let images { try runOnImages(images) }
    }

    private func runOnPoints(_ path: String) throws {
        let array: (shape: [Int], data: [Float])
        do { array = try NPY.read(path: path) } catch { throw UserError(String(describing: error)) }
        guard array.shape.count == 2, array.shape[0] >= 1, array.shape[1] >= 1 else {
            throw UserError("\(path) has shape \(array.shape); id --points needs an [N, D] float32 array of N points.")
        }
        let report = array.data.withUnsafeBufferPointer {
            DimensionReport(PointMatrix(base: $0.baseAddress!, count: array.shape[0], dimension: array.shape[1]))
        }
        let dimension: Double
        switch report.intrinsic {
        case .success(let d): dimension = d
        case .failure(let f): throw UserError("\(path): \(f.description).")
        }
        if json {
            var line: [String: Any] = ["id": dimension, "n": report.points, "pca90": report.pca90,
                                       "duplicates": report.duplicates]
            if let s = report.spread { line["std"] = s }
            print(try JSONLine.encode(line))
        } else {
            print(String(format: "intrinsic dimension %.2f%@ over %d distinct points (%d repeated left out); PCA-90 %d components",
                         dimension, report.spread.map { String(format: " ± %.2f", $0) } ?? "", report.points,
                         report.duplicates, report.pca90))
        }
    }

    private func runOnImages(_ folder: String) throws {
        let files = try ImageList.files(under: folder)
        guard files.count >= 3 else {
            throw UserError("\(folder) holds \(files.count) PNG or JPEG images; the intrinsic dimension needs at least 3.")
        }
        let (model, network) = try options.load()
        let everyLayer = LayerSample.all(in: model.graph)
        var chosen = everyLayer
        if layers != "all" {
            chosen = []
            for name in layers.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                guard let layer = everyLayer.first(where: { $0.name == name }) else {
                    throw UserError("The model \(model.url.path) has no layer '\(name)'; `deepscope inspect` lists them.")
                }
                chosen.append(layer)
            }
            chosen.sort { $0.depth < $1.depth }
        }
        let classifier = try Classifier(model: model, network: network)
        // The first pass finds which files decode; later passes (when the layers do not fit in memory
        // together) read only those.
        var readable = files
        var profile: [DepthProfile.Layer] = []
        let passes = LayerSample.passes(chosen, images: files.count, budget: Self.memoryBudget)
        for (p, group) in passes.enumerated() {
            let representations = Representations(layers: group, rows: readable.count)
            var kept: [String] = []
            for path in readable {
                do { try classifier.prepare(path: path) } catch {
                    FileHandle.standardError.write(Data("id: skipped: \(UserError.badInput(error).message)\n".utf8))
                    continue
                }
                network.forward()
                representations.record(row: kept.count, from: network)
                kept.append(path)
            }
            if p == 0 {
                guard kept.count >= 3 else {
                    throw UserError("Only \(kept.count) images in \(folder) could be read; the intrinsic dimension needs at least 3.")
                }
                readable = kept
                if kept.count < 100 {
                    FileHandle.standardError.write(Data("id: only \(kept.count) images: TwoNN needs hundreds of points for a stable estimate (see \"std\").\n".utf8))
                }
            }
            profile += try report(representations, rows: kept.count)
        }
        if let plot { try draw(DepthProfile(layers: profile, points: readable.count), to: plot) }
    }

    private func draw(_ profile: DepthProfile, to path: String) throws {
        let fonts: Fonts
        do { fonts = try FontLoader.standard(scale: 1) } catch { throw UserError(String(describing: error), status: 1) }
        let canvas = Canvas(width: 960, height: 540)
        canvas.clear(Theme.dark.background)
        DepthProfilePane(painter: PanePainter(fonts: fonts)).draw(canvas, canvas.bounds, profile: profile)
        do { try canvas.writePNG(to: path) } catch { throw UserError(error.description, status: 1) }
    }

    private func report(_ representations: Representations, rows: Int) throws -> [DepthProfile.Layer] {
        var profile: [DepthProfile.Layer] = []
        for (k, layer) in representations.layers.enumerated() {
            let report = representations.withPoints(of: k) { all in
                DimensionReport(PointMatrix(base: all.base, count: rows, dimension: all.dimension))
            }
            profile.append(DepthProfile.Layer(name: layer.name, depth: layer.depth, intrinsic: try? report.intrinsic.get(),
                                              spread: report.spread, pca90: report.pca90))
            if json {
                var line: [String: Any] = ["layer": layer.name, "depth": layer.depth, "pca90": report.pca90,
                                           "n": report.points, "dimension": layer.dimension]
                switch report.intrinsic {
                case .success(let d): line["id"] = d
                case .failure(let f): line["id"] = NSNull(); line["error"] = f.description
                }
                if let s = report.spread { line["std"] = s }
                print(try JSONLine.encode(line))
            } else {
                let id: String
                switch report.intrinsic {
                case .success(let d): id = String(format: "%7.2f", d) + (report.spread.map { String(format: " ± %5.2f", $0) } ?? "        ")
                case .failure(let f): id = "  none (\(f.description))"
                }
                print(layer.name.padding(toLength: max(layer.name.count, 24), withPad: " ", startingAt: 0)
                      + String(format: "  depth %.3f  ID %@  PCA-90 %5d  (%d points of %d)", layer.depth, id,
                               report.pca90, report.points, layer.dimension))
            }
        }
        return profile
    }
}

/// The PNG and JPEG files below a folder, recursively, in a stable order.
enum ImageList {
    static let extensions: Set<String> = ["png", "jpg", "jpeg"]

    static func files(under folder: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw UserError("\(folder) is not a folder.")
        }
        guard let walk = FileManager.default.enumerator(atPath: folder) else {
            throw UserError("\(folder) cannot be read.")
        }
        var files: [String] = []
        while let relative = walk.nextObject() as? String {
            if extensions.contains((relative as NSString).pathExtension.lowercased()) {
                files.append((folder as NSString).appendingPathComponent(relative))
            }
        }
        return files.sorted()
    }
}
