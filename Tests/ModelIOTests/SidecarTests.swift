import Foundation
import Engine
import ModelIO
import Testing

/// The preprocessing sidecar `<model>.json` and the labels file.
@Suite struct SidecarTests {
    /// Writes `net.onnx` (the small classifier, 4 classes, optionally with symbolic height and width),
    /// and, when given, `net.json` and other files; returns the folder.
    func folder(sidecar: String? = nil, files: [String: String] = [:], symbolic: Bool = false) throws -> URL {
        let dir = try temporaryFolder()
        var b = smallClassifier()
        if symbolic { b.model.graph.input = [ONNXBuilder.valueInfo("x", shape: [nil, 3, nil, nil])] }
        try b.data().write(to: dir.appendingPathComponent("net.onnx"))
        if let sidecar { try Data(sidecar.utf8).write(to: dir.appendingPathComponent("net.json")) }
        for (name, text) in files { try Data(text.utf8).write(to: dir.appendingPathComponent(name)) }
        return dir
    }

    func load(_ dir: URL) throws -> Model { try ModelLoader.load(path: dir.appendingPathComponent("net.onnx").path) }

    let fourLabels = "cat\ndog\n  bird \r\nfish\n\n"

    @Test func fullSidecar() throws {
        let dir = try folder(sidecar: """
            {"input_size": [8, 8], "channel_order": "BGR", "pixel_range": 255, "mean": [127, 127, 127],
             "std": [128, 128, 128], "crop_fraction": 0.9, "resize": "bicubic", "labels": "classes.txt"}
            """, files: ["classes.txt": fourLabels])
        defer { try? FileManager.default.removeItem(at: dir) }
        let m = try load(dir)
        #expect(m.preprocessing == Preprocessing(inputSize: [8, 8], channelOrder: "BGR", pixelRange: 255,
                                                 mean: [127, 127, 127], std: [128, 128, 128], cropFraction: 0.9,
                                                 resize: "bicubic", labels: "classes.txt"))
        #expect(m.labels == ["cat", "dog", "bird", "fish"])
    }

    @Test func defaultsWithoutASidecar() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = try load(dir).preprocessing
        #expect(p.inputSize == [8, 8])
        #expect(p.channelOrder == "RGB" && p.pixelRange == 1 && p.cropFraction == 0.875 && p.resize == "bilinear")
        #expect(p.mean == [0.485, 0.456, 0.406] && p.std == [0.229, 0.224, 0.225])
        #expect(p.labels == nil)
    }

    @Test func eachKeyIsOptional() throws {
        let dir = try folder(sidecar: #"{"channel_order": "bgr", "resize": "Bicubic"}"#)
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = try load(dir).preprocessing
        #expect(p.channelOrder == "BGR" && p.resize == "bicubic")
        #expect(p.inputSize == [8, 8] && p.pixelRange == 1 && p.mean == [0.485, 0.456, 0.406])
    }

    @Test func defaultLabelsFileBesideTheModel() throws {
        let dir = try folder(files: ["net.labels.txt": fourLabels])
        defer { try? FileManager.default.removeItem(at: dir) }
        let m = try load(dir)
        #expect(m.labels?.count == 4)
        #expect(m.preprocessing.labels == "net.labels.txt")
    }

    @Test func labelsNullTurnsTheDefaultOff() throws {
        let dir = try folder(sidecar: #"{"labels": null}"#, files: ["net.labels.txt": fourLabels])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try load(dir).labels == nil)
    }

    @Test func labelsInASubfolderRelativeToTheSidecar() throws {
        let dir = try folder(sidecar: #"{"labels": "meta/names.txt"}"#)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("meta"), withIntermediateDirectories: true)
        try Data(fourLabels.utf8).write(to: dir.appendingPathComponent("meta/names.txt"))
        #expect(try load(dir).labels?.last == "fish")
    }

    @Test func labelsErrors() throws {
        let missing = try folder(sidecar: #"{"labels": "gone.txt"}"#)
        defer { try? FileManager.default.removeItem(at: missing) }
        let e = modelError { try load(missing) }
        #expect(e == missing.appendingPathComponent("gone.txt").path + ": no such labels file.")

        let wrongCount = try folder(files: ["net.labels.txt": "a\nb\nc\n"])
        defer { try? FileManager.default.removeItem(at: wrongCount) }
        #expect(modelError { try load(wrongCount) }.contains("net.labels.txt: has 3 labels, but the model's output 'prob' has 4 classes"))

        let empty = try folder(files: ["net.labels.txt": "\n\n"])
        defer { try? FileManager.default.removeItem(at: empty) }
        #expect(modelError { try load(empty) }.contains("holds no labels"))
    }

    @Test func inputSizeFillsSymbolicDimensions() throws {
        let dir = try folder(sidecar: #"{"input_size": [16, 12]}"#, symbolic: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let m = try load(dir)
        #expect(m.shape("x") == Shape([1, 3, 16, 12]))
        #expect(m.preprocessing.inputSize == [16, 12])
        #expect(m.shape("conv1") == Shape([1, 6, 16, 12]))
    }

    @Test func inputSizeMustAgreeWithAFixedInput() throws {
        let dir = try folder(sidecar: #"{"input_size": [224, 224]}"#)
        defer { try? FileManager.default.removeItem(at: dir) }
        let e = modelError { try load(dir) }
        #expect(e == dir.appendingPathComponent("net.json").path + ": key 'input_size' is [224, 224], but the model's input 'x' is fixed at [8, 8].")
    }

    @Test func malformedSidecarsNameTheFileAndKey() throws {
        let cases: [(String, String?)] = [
            (#"{"input_size": [224]}"#, "input_size"),
            (#"{"input_size": [224, -1]}"#, "input_size"),
            (#"{"input_size": [224.5, 224]}"#, "input_size"),
            (#"{"input_size": "224"}"#, "input_size"),
            (#"{"channel_order": "RGBA"}"#, "channel_order"),
            (#"{"channel_order": 3}"#, "channel_order"),
            (#"{"pixel_range": 0}"#, "pixel_range"),
            (#"{"pixel_range": true}"#, "pixel_range"),
            (#"{"pixel_range": "255"}"#, "pixel_range"),
            (#"{"mean": [1, 2]}"#, "mean"),
            (#"{"mean": [1, 2, "3"]}"#, "mean"),
            (#"{"std": [1, 0, 1]}"#, "std"),
            (#"{"crop_fraction": 1.5}"#, "crop_fraction"),
            (#"{"crop_fraction": 0}"#, "crop_fraction"),
            (#"{"resize": "nearest"}"#, "resize"),
            (#"{"labels": 5}"#, "labels"),
            (#"{"label": "x.txt"}"#, "label"),
            (#"{"mean": [1, 2, 3]"#, nil),
            (#"[1, 2, 3]"#, nil),
            ("", nil),
        ]
        for (json, key) in cases {
            let dir = try folder(sidecar: json)
            defer { try? FileManager.default.removeItem(at: dir) }
            let e = modelError { try load(dir) }
            let prefix = dir.appendingPathComponent("net.json").path + ": " + (key.map { "key '\($0)' " } ?? "")
            #expect(e.hasPrefix(prefix), "\(json) gave: \(e)")
        }
    }

    @Test func parseDirectly() throws {
        let p = try Preprocessing.parse(json: Data(#"{"pixel_range": 255, "mean": [1, 2, 3]}"#.utf8), path: "a.json",
                                        defaultInputSize: [224, 224])
        #expect(p.inputSize == [224, 224] && p.pixelRange == 255 && p.mean == [1, 2, 3] && p.std == [0.229, 0.224, 0.225])
        #expect(throws: ModelError.invalidSidecar(path: "a.json", key: "std", reason: "must be an array of 3 numbers")) {
            try Preprocessing.parse(json: Data(#"{"std": 1}"#.utf8), path: "a.json", defaultInputSize: [1, 1])
        }
    }

    @Test func codableUsesTheSidecarKeys() throws {
        let p = Preprocessing(inputSize: [224, 224], channelOrder: "RGB", pixelRange: 255, mean: [127, 127, 127],
                              std: [128, 128, 128], cropFraction: 0.875, resize: "bicubic", labels: "x.labels.txt")
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(p), as: UTF8.self)
        #expect(json == #"{"channel_order":"RGB","crop_fraction":0.875,"input_size":[224,224],"labels":"x.labels.txt","mean":[127,127,127],"pixel_range":255,"resize":"bicubic","std":[128,128,128]}"#)
        #expect(try JSONDecoder().decode(Preprocessing.self, from: Data(json.utf8)) == p)
        // The sidecar parser reads what Codable writes.
        #expect(try Preprocessing.parse(json: Data(json.utf8), path: "p.json", defaultInputSize: [1, 1]) == p)
    }
}
