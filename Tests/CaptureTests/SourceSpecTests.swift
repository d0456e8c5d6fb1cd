import Capture
import Testing

@Suite("Source specs")
struct SourceSpecTests {
    @Test("the DESIGN.md spec strings parse")
    func designExamples() throws {
        #expect(try SourceSpec.parse("v4l2:/dev/video0?width=640&height=480&fps=30")
                == .camera(path: "/dev/video0", SourceOptions(width: 640, height: 480, frameRate: 30)))
        #expect(try SourceSpec.parse("v4l2:/dev/video2") == .camera(path: "/dev/video2", SourceOptions()))
        #expect(try SourceSpec.parse("image:/tmp/cat.png") == .image(path: "/tmp/cat.png", SourceOptions()))
        #expect(try SourceSpec.parse("dir:photos") == .directory(path: "photos", SourceOptions()))
        #expect(try SourceSpec.parse("video:/clips/a.mp4") == .video(path: "/clips/a.mp4", SourceOptions()))
        #expect(try SourceSpec.parse("synthetic") == .synthetic(SourceOptions()))
    }

    @Test("every kind takes width, height, fps and mirror")
    func options() throws {
        #expect(try SourceSpec.parse("synthetic?width=320&height=240&fps=0")
                == .synthetic(SourceOptions(width: 320, height: 240, frameRate: 0)))
        #expect(try SourceSpec.parse("dir:/x?fps=2.5&mirror=1") == .directory(path: "/x", SourceOptions(frameRate: 2.5, mirror: true)))
        #expect(try SourceSpec.parse("image:a.jpg?mirror=false").options.mirror == false)
        #expect(try SourceSpec.parse("video:a.mp4?mirror=yes").options.mirror == true)
    }

    @Test("a '?' that does not start key=value pairs belongs to the path")
    func questionMarkInPath() throws {
        #expect(try SourceSpec.parse("image:/tmp/what?.png") == .image(path: "/tmp/what?.png", SourceOptions()))
        #expect(try SourceSpec.parse("image:/tmp/a?b.png?fps=5") == .image(path: "/tmp/a?b.png", SourceOptions(frameRate: 5)))
    }

    @Test("the canonical form parses back to the same spec")
    func roundTrip() throws {
        for text in ["v4l2:/dev/video0?width=640&height=480&fps=30", "synthetic", "dir:/a?fps=2.5&mirror=1", "video:/v.mp4?width=8&height=6"] {
            let spec = try SourceSpec.parse(text)
            #expect(spec.description == text)
            #expect(try SourceSpec.parse(spec.description) == spec)
        }
    }

    @Test("bad specs are rejected with a reason", arguments: [
        ("", "no kind"), ("webcam:/dev/video0", "not a kind of source"), ("v4l2", "names no device"),
        ("v4l2:", "names no device"), ("image:", "names no path"), ("synthetic:/x", "takes no path"),
        ("v4l2:/dev/video0?width=640", "together"), ("v4l2:/dev/video0?width=abc&height=1", "whole number"),
        ("v4l2:/dev/video0?width=0&height=480", "whole number"), ("synthetic?fps=-1", "fps must be"),
        ("v4l2:/dev/video0?fps=0", "above 0"), ("synthetic?colour=red", "not an option"),
        ("synthetic?fps=1&fps=2", "given twice"), ("synthetic?mirror=maybe", "mirror must be"),
        ("image:/x?", "empty"), ("synthetic?width=99999&height=2", "whole number"),
    ])
    func badSpecs(text: String, reason: String) {
        #expect {
            try SourceSpec.parse(text)
        } throws: { error in
            guard let e = error as? CaptureError, case .badSpec(let spec, let r) = e else { return false }
            return spec == text && r.contains(reason) && e.isBadInput && e.description.hasSuffix(".")
        }
    }
}
