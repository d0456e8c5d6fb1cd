import Capture
import CaptureTesting
import Foundation
import Imaging
import Support
import Testing

@Suite("Image, folder and synthetic sources")
struct FileSourceTests {
    @Test("an image is delivered again and again, paced, at its size or covering the size asked for")
    func image() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = (dir as NSString).appendingPathComponent("a.png")
        try writeTestPNG(path, width: 40, height: 20) { x, y in (UInt8(x), UInt8(y), 200) }
        let source = ImageSource(path: path, options: SourceOptions(frameRate: 100))
        try source.open()
        #expect(source.geometry == FrameGeometry(width: 40, height: 20))
        let buffer = FrameBuffer(source.geometry)
        let t0 = MonotonicClock.now()
        var frames = 0
        while frames < 6 {
            if case .frame = source.read(into: buffer.pointer, timeout: 100 * Nanoseconds.millisecond) { frames += 1 }
        }
        // Six frames at 100 fps: the first at once, then 10 ms apart.
        #expect(MonotonicClock.now() - t0 >= 45 * Nanoseconds.millisecond)
        #expect(buffer.pixel(13, 7, width: 40) == (13, 7, 200))

        let mirrored = ImageSource(path: path, options: SourceOptions(frameRate: 0, mirror: true))
        try mirrored.open()
        let m = FrameBuffer(mirrored.geometry)
        _ = mirrored.read(into: m.pointer, timeout: 0)
        #expect(m.pixel(40 - 1 - 13, 7, width: 40) == (13, 7, 200))

        let square = ImageSource(path: path, options: SourceOptions(width: 10, height: 10, frameRate: 0))
        try square.open()
        #expect(square.geometry == FrameGeometry(width: 10, height: 10))
    }

    @Test("a missing or broken image is bad input naming the file")
    func badImages() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = (dir as NSString).appendingPathComponent("notes.png")
        try "hello".write(toFile: text, atomically: true, encoding: .utf8)
        #expect(throws: CaptureError.notFound(what: "image", path: "/nonexistent/x.png")) {
            try ImageSource(path: "/nonexistent/x.png").open()
        }
        #expect {
            try ImageSource(path: text).open()
        } throws: { error in
            let e = error as! CaptureError
            return e.isBadInput && e.description == "The image \(text) cannot be used: it is not a PNG or JPEG image."
        }
    }

    @Test("a folder's images cycle in name order, numbers compared as numbers, fitted to one size")
    func folder() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, value) in [("img10.png", 30), ("img2.png", 20), ("img1.png", 10)] {
            try writeTestPNG((dir as NSString).appendingPathComponent(name), width: 8, height: 6) { _, _ in (UInt8(value), 0, 0) }
        }
        // A larger image of another shape is fitted to the first one's size; other files are ignored.
        try writeTestPNG((dir as NSString).appendingPathComponent("img3.png"), width: 30, height: 10) { _, _ in (40, 0, 0) }
        try "x".write(toFile: (dir as NSString).appendingPathComponent("readme.txt"), atomically: true, encoding: .utf8)
        let source = DirectorySource(path: dir, options: SourceOptions(frameRate: 0))
        try source.open()
        #expect(source.files.map { ($0 as NSString).lastPathComponent } == ["img1.png", "img2.png", "img3.png", "img10.png"])
        #expect(source.geometry == FrameGeometry(width: 8, height: 6))
        let buffer = FrameBuffer(source.geometry)
        var reds: [UInt8] = []
        for _ in 0..<6 {
            guard case .frame = source.read(into: buffer.pointer, timeout: 0) else { Issue.record("no frame"); return }
            reds.append(buffer.pointer[0])
        }
        #expect(reds == [10, 20, 40, 30, 10, 20])
    }

    @Test("folders that cannot be used are bad input", arguments: ["missing", "empty", "file", "broken"])
    func badFolders(kind: String) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var path = dir
        var expected = ""
        switch kind {
        case "missing": path = dir + "/nope"; expected = "The folder \(path) does not exist."
        case "empty": expected = "it holds no PNG or JPEG images"
        case "file":
            path = dir + "/a.txt"
            try "x".write(toFile: path, atomically: true, encoding: .utf8)
            expected = "it is not a folder"
        default:
            try "x".write(toFile: dir + "/bad.jpg", atomically: true, encoding: .utf8)
            expected = "The image \(dir)/bad.jpg cannot be used"
        }
        #expect {
            try DirectorySource(path: path).open()
        } throws: { error in
            let e = error as! CaptureError
            return e.isBadInput && e.description.contains(expected)
        }
    }

    @Test("the synthetic scene is deterministic, moves, and has structure")
    func synthetic() throws {
        let scene = SyntheticSource(options: SourceOptions(width: 160, height: 120, frameRate: 0))
        try scene.open()
        let a = FrameBuffer(scene.geometry), b = FrameBuffer(scene.geometry), c = FrameBuffer(scene.geometry)
        scene.render(frame: 10, into: a.pointer)
        scene.render(frame: 10, into: b.pointer)
        scene.render(frame: 40, into: c.pointer)
        #expect(a.bytes == b.bytes)
        let changed = zip(a.bytes, c.bytes).filter { $0 != $1 }.count
        #expect(changed > a.count / 50, "only \(changed) bytes changed in 30 frames")
        // Structure: many strong horizontal edges (checkerboard, bars, shapes), a spread of colours.
        var edges = 0
        let w = 160
        for y in 0..<120 {
            for x in 1..<w where abs(Int(a.pointer[(y * w + x) * 3 + 1]) - Int(a.pointer[(y * w + x - 1) * 3 + 1])) > 60 { edges += 1 }
        }
        #expect(edges > 500, "\(edges) edges")
        let colours = Set(stride(from: 0, to: a.count, by: 3).map { Int(a.pointer[$0]) << 16 | Int(a.pointer[$0 + 1]) << 8 | Int(a.pointer[$0 + 2]) })
        #expect(colours.count > 50)

        let mirrored = SyntheticSource(options: SourceOptions(width: 160, height: 120, mirror: true))
        let m = FrameBuffer(mirrored.geometry)
        mirrored.render(frame: 10, into: m.pointer)
        for (x, y) in [(0, 0), (17, 50), (159, 119)] { #expect(m.pixel(159 - x, y, width: 160) == a.pixel(x, y, width: 160)) }
    }

    @Test("the synthetic scene is paced at its frame rate")
    func syntheticPacing() throws {
        let scene = SyntheticSource(options: SourceOptions(width: 32, height: 24, frameRate: 50))
        try scene.open()
        let (frames, _) = readFrames(scene, count: 11)
        #expect(frames.count == 11)
        let span = frames.last!.captureTime - frames.first!.captureTime
        #expect(span >= 190 * Nanoseconds.millisecond && span < 400 * Nanoseconds.millisecond, "\(span) ns for 10 intervals")
    }

    @Test("the source factory makes the kind the spec names")
    func factory() throws {
        let system = EmulatedVideoSystem()
        #expect(SourceFactory.make(try SourceSpec.parse("v4l2:/dev/video3"), system: system).name == "camera /dev/video3")
        #expect(SourceFactory.make(try SourceSpec.parse("image:/a.png"), system: system) is ImageSource)
        #expect(SourceFactory.make(try SourceSpec.parse("dir:/a"), system: system) is DirectorySource)
        #expect(SourceFactory.make(try SourceSpec.parse("video:/a.mp4"), system: system) is VideoFileSource)
        #expect(SourceFactory.make(try SourceSpec.parse("synthetic"), system: system).geometry == SyntheticSource.defaultGeometry)
    }
}
