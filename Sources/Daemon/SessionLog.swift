// The two JSON-lines logs of a recorded session (`run --session DIR`): one line per recorded input
// frame (`frames.jsonl`) and one per change of what the pipeline is asked to do (`actions.jsonl`).
// The README documents both formats.

import Engine
import Foundation
import Visualization

/// One input frame as it reached the network: a line of `frames.jsonl`, written once the frame is
/// in `input.mkv` (so every line has its video frame).
public struct SessionFrameRecord: Codable, Sendable, Equatable {
    /// 0, 1, 2…: the frame's place in `input.mkv`.
    public var seq: Int
    /// The frame's number in its source's mailbox (gaps: frames the network never saw).
    public var frame: UInt64
    /// The source's own count of the frame (1 for its first frame).
    public var sourceSeq: UInt64
    /// `MonotonicClock` nanoseconds at capture.
    public var captureNs: UInt64
    /// The frame's presentation time in the video, milliseconds from the first frame.
    public var ptsMs: Int64
    /// The feed (source index) it came from.
    public var feed: Int

    enum CodingKeys: String, CodingKey {
        case seq, frame, feed
        case captureNs = "capture_ns"
        case ptsMs = "pts_ms"
        case sourceSeq = "source_seq"
    }
}

/// One change of the request: a line of `actions.jsonl`.
public struct SessionActionRecord: Codable, Sendable, Equatable {
    /// The `seq` of the first recorded frame the request applies to.
    public var frame: Int
    /// `MonotonicClock` nanoseconds when the inference thread took the request over.
    public var timeNs: UInt64
    /// What changed from the previous line: "start" on the first line, then any of "select",
    /// "mode", "filter", "origin", "grid", "freeze", "mirror", "stretch", "source", "step".
    public var actions: [String]
    /// The whole request from then on.
    public var layer: String
    public var unit: Int
    /// The seed position in the layer's map, [y, x] (absent: the whole map).
    public var position: [Int]?
    /// "deconv", "guided", "gradient" or "off".
    public var mode: String
    public var filter: String
    /// The pinned projection origin: layer name, unit and position.
    public var originLayer: String?
    public var originUnit: Int?
    public var originPosition: [Int]?
    public var gridGradient: Bool
    public var frozen: Bool
    public var mirror: Bool
    public var stretch: Bool
    public var feed: Int
    public var fileSteps: Int

    enum CodingKeys: String, CodingKey {
        case frame, actions, layer, unit, position, mode, filter, frozen, mirror, stretch, feed
        case timeNs = "time_ns"
        case originLayer = "origin_layer"
        case originUnit = "origin_unit"
        case originPosition = "origin_position"
        case gridGradient = "grid_gradient"
        case fileSteps = "file_steps"
    }

    /// The line for `request`, with `layerNames` naming the selection's layer indices.
    public init(frame: Int, timeNs: UInt64, request r: LiveRequest, previous: LiveRequest?, layerNames: [String]) {
        self.frame = frame
        self.timeNs = timeNs
        actions = Self.changes(from: previous, to: r)
        let s = r.selection
        func name(_ i: Int) -> String { layerNames.indices.contains(i) ? layerNames[i] : "#\(i)" }
        layer = name(s.layer)
        unit = s.channel
        position = s.position.map { [$0.y, $0.x] }
        mode = s.mode?.rawValue ?? "off"
        filter = s.filter.rawValue
        originLayer = s.origin.map { name($0.layer) }
        originUnit = s.origin?.channel
        originPosition = s.origin?.position.map { [$0.y, $0.x] }
        gridGradient = s.gridGradient
        frozen = r.frozen
        mirror = r.mirror
        stretch = r.stretch
        feed = r.feed
        fileSteps = r.fileSteps
    }

    /// The names of what differs between two requests ("start" when there is no previous one).
    public static func changes(from a: LiveRequest?, to b: LiveRequest) -> [String] {
        guard let a else { return ["start"] }
        var out: [String] = []
        let (x, y) = (a.selection, b.selection)
        if x.layer != y.layer || x.channel != y.channel || x.position != y.position { out.append("select") }
        if x.mode != y.mode { out.append("mode") }
        if x.filter != y.filter { out.append("filter") }
        if x.origin != y.origin { out.append("origin") }
        if x.gridGradient != y.gridGradient { out.append("grid") }
        if a.frozen != b.frozen { out.append("freeze") }
        if a.mirror != b.mirror { out.append("mirror") }
        if a.stretch != b.stretch { out.append("stretch") }
        if a.feed != b.feed { out.append("source") }
        if a.fileSteps != b.fileSteps { out.append("step") }
        return out
    }

    /// The request this line describes, with `layerNames` giving the layer indices back (nil when
    /// a layer or a mode is not known: a session recorded with another model).
    public func request(layerNames: [String]) -> LiveRequest? {
        guard let l = layerNames.firstIndex(of: layer) else { return nil }
        var s = Selection(layer: l, channel: unit, position: Self.position(position))
        if mode == "off" { s.mode = nil } else {
            guard let m = ProjectionMode(rawValue: mode) else { return nil }
            s.mode = m
        }
        guard let f = ProjectionFilter(rawValue: filter) else { return nil }
        s.filter = f
        if let originLayer, let originUnit {
            guard let ol = layerNames.firstIndex(of: originLayer) else { return nil }
            s.origin = Selection.Origin(layer: ol, channel: originUnit, position: Self.position(originPosition))
        }
        s.gridGradient = gridGradient
        var r = LiveRequest(selection: s)
        r.frozen = frozen
        r.mirror = mirror
        r.stretch = stretch
        r.feed = feed
        r.fileSteps = fileSteps
        return r
    }

    private static func position(_ p: [Int]?) -> Selection.Position? {
        guard let p, p.count == 2 else { return nil }
        return Selection.Position(y: p[0], x: p[1])
    }
}

/// `session.json`: what a session was recorded from.
public struct SessionHeader: Codable, Sendable, Equatable {
    public var version = 1
    public var model: String
    public var source: String
    public var width: Int
    public var height: Int
    /// Wall-clock seconds since 1970 at the start, and the `MonotonicClock` reading then.
    public var startedAt: Double
    public var startedNs: UInt64

    public init(model: String, source: String, width: Int, height: Int, startedAt: Double, startedNs: UInt64) {
        self.model = model
        self.source = source
        self.width = width
        self.height = height
        self.startedAt = startedAt
        self.startedNs = startedNs
    }

    enum CodingKeys: String, CodingKey {
        case version, model, source, width, height
        case startedAt = "started_at"
        case startedNs = "started_ns"
    }
}

/// Reads the JSON lines of a session log: every complete line (a last line cut short by a kill is
/// left out).
public enum SessionLogReader {
    /// - Throws: `SessionError` naming the file (and line) that cannot be read.
    public static func lines<T: Decodable>(_ type: T.Type, path: String) throws(SessionError) -> [T] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw SessionError("The session log \(path) cannot be read.")
        }
        let decoder = JSONDecoder()
        var out: [T] = []
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        for (i, line) in lines.enumerated() {
            do { out.append(try decoder.decode(T.self, from: Data(line))) } catch {
                // Only the last line may be cut short (the writer was killed while writing it).
                if i == lines.count - 1 && data.last != UInt8(ascii: "\n") { break }
                throw SessionError("\(path), line \(i + 1), is not a session log line: \(error).")
            }
        }
        return out
    }
}
