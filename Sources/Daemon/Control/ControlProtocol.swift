// The control socket's language: one JSON object per line each way.
//
//   → {"command": "select", "args": ["blk09_add:96"]}
//   ← {"ok": true, "layer": "blk09_add", "unit": 96}
//   ← {"ok": false, "error": "The model has no layer named 'x'; `deepscope inspect` lists them."}
//
// `args` are the words `deepscope ctl` was given after the command's name.

import Engine
import Foundation

/// A request from the control socket: the same vocabulary as the window's keys.
public enum ControlCommand: Sendable, Equatable {
    case status
    /// A layer by name and optionally a unit of it.
    case select(layer: String, unit: Int?)
    /// nil: projections off.
    case mode(ProjectionMode?)
    case freeze(Bool)
    case record(start: Bool)
    /// Save the next composed view as a PNG (nil: a timestamped name in the recordings folder).
    case snapshot(path: String?)
    case quit

    /// The commands and their forms, for error messages.
    public static let usage = "status, select LAYER[:UNIT], mode deconv|guided|gradient|off, freeze on|off, record start|stop, snapshot [FILE] or quit"

    /// Parses the words of a command ("select", "blk09_add:96"); throws one sentence.
    public static func parse(_ name: String, _ args: [String]) throws(ControlRefusal) -> ControlCommand {
        func one() throws(ControlRefusal) -> String {
            guard args.count == 1 else { throw ControlRefusal("'\(name)' takes one argument, got \(args.count).") }
            return args[0]
        }
        switch name {
        case "status", "quit":
            guard args.isEmpty else { throw ControlRefusal("'\(name)' takes no arguments, got \(args.count).") }
            return name == "status" ? .status : .quit
        case "select":
            let a = try one()
            if let colon = a.lastIndex(of: ":"), let unit = Int(a[a.index(after: colon)...]) {
                guard unit >= 0 else { throw ControlRefusal("The unit must be 0 or more, got \(unit).") }
                let layer = String(a[..<colon])
                guard !layer.isEmpty else { throw ControlRefusal("'select' needs LAYER[:UNIT], got '\(a)'.") }
                return .select(layer: layer, unit: unit)
            }
            guard !a.isEmpty else { throw ControlRefusal("'select' needs LAYER[:UNIT], got an empty name.") }
            return .select(layer: a, unit: nil)
        case "mode":
            let a = try one()
            if a == "off" { return .mode(nil) }
            guard let m = ProjectionMode(rawValue: a) else {
                throw ControlRefusal("The mode must be deconv, guided, gradient or off, not '\(a)'.")
            }
            return .mode(m)
        case "freeze":
            switch try one() {
            case "on": return .freeze(true)
            case "off": return .freeze(false)
            case let a: throw ControlRefusal("'freeze' takes on or off, not '\(a)'.")
            }
        case "record":
            switch try one() {
            case "start": return .record(start: true)
            case "stop": return .record(start: false)
            case let a: throw ControlRefusal("'record' takes start or stop, not '\(a)'.")
            }
        case "snapshot":
            guard args.count <= 1 else { throw ControlRefusal("'snapshot' takes at most one file, got \(args.count) arguments.") }
            return .snapshot(path: args.first)
        default:
            throw ControlRefusal("Unknown command '\(name.prefix(64))'; the commands are \(usage).")
        }
    }

    /// Parses one request line (without its newline).
    public static func parse(line: some Collection<UInt8>) throws(ControlRefusal) -> ControlCommand {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: Data(line), options: []) } catch {
            throw ControlRefusal("The request is not JSON; send one object per line, e.g. {\"command\": \"status\"}.")
        }
        guard let dict = object as? [String: Any], let name = dict["command"] as? String else {
            throw ControlRefusal("The request must be a JSON object with a string \"command\", e.g. {\"command\": \"status\"}.")
        }
        var args: [String] = []
        if let raw = dict["args"] {
            guard let list = raw as? [Any], list.allSatisfy({ $0 is String }) else {
                throw ControlRefusal("\"args\" must be an array of strings.")
            }
            args = list as! [String]
        }
        return try parse(name, args)
    }

    /// The request line `deepscope ctl` sends for these words.
    public static func requestLine(_ name: String, _ args: [String]) -> String {
        ControlReply.encode(["command": name, "args": args])
    }
}

/// A refused request: one sentence, sent back as the reply's "error".
public struct ControlRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A reply: a JSON object, `"ok"` first.
public struct ControlReply: @unchecked Sendable {
    public var ok: Bool
    /// The reply's fields beyond "ok" (JSON-compatible values only).
    public var fields: [String: Any]

    public init(ok: Bool = true, _ fields: [String: Any] = [:]) {
        self.ok = ok
        self.fields = fields
    }

    public static func refused(_ why: String) -> ControlReply { ControlReply(ok: false, ["error": why]) }

    /// One line of JSON, keys sorted (so that replies read the same every time), no newline.
    public var line: String {
        var all = fields
        all["ok"] = ok
        return Self.encode(all)
    }

    static func encode(_ object: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return "{\"error\":\"the reply could not be encoded\",\"ok\":false}"
        }
        return String(decoding: data, as: UTF8.self)
    }
}
