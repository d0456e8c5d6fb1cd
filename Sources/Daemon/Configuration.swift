// The daemon's configuration file (`run --config FILE`, TOML): read at start, and again on SIGHUP.

import Capture
import Engine
import Foundation
import Support
internal import TOMLKit

/// A configuration file that cannot be used: one sentence naming the file, the key and what is
/// wrong. Bad input (exit status 2).
public struct ConfigurationError: DeepScopeError, Equatable {
    public var description: String
    public var errorKind: ErrorKind { .badInput }
    public init(_ description: String) { self.description = description }
}

/// What a configuration file sets; every key is optional, and command-line options override it.
///
/// ```toml
/// source = "v4l2:/dev/video0?width=640&height=480"
/// model = "/usr/share/deepscope/efficientnet-lite0.onnx"
/// layer = "blk09_add"
/// unit = 96
/// mode = "guided"            # deconv, guided, gradient or off
/// recordings = "/var/lib/deepscope"
/// socket = "/run/deepscope/deepscope.sock"
/// metrics = "127.0.0.1:9464" # Prometheus text on this local address (off when absent)
/// ```
public struct DaemonConfiguration: Sendable, Equatable {
    public var source: SourceSpec?
    public var sourceText: String?
    public var model: String?
    public var layer: String?
    public var unit: Int?
    /// nil: not set; `.some(nil)`: "off".
    public var mode: ProjectionMode??
    /// Where recordings and snapshots go.
    public var recordings: String?
    /// The control socket's path.
    public var socket: String?
    /// The metrics endpoint's address, host and port (a loopback host only).
    public var metrics: MetricsAddress?

    public init() {}

    /// The keys a file may set, in the order the documentation lists them.
    public static let keys = ["source", "model", "layer", "unit", "mode", "recordings", "socket", "metrics"]

    public static func == (a: Self, b: Self) -> Bool {
        a.sourceText == b.sourceText && a.model == b.model && a.layer == b.layer && a.unit == b.unit
            && a.mode == b.mode && a.recordings == b.recordings && a.socket == b.socket && a.metrics == b.metrics
    }

    /// Reads and checks the file at `path`; relative paths in it are taken from its folder.
    public static func load(path: String) throws(ConfigurationError) -> DaemonConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("The configuration file \(path) does not exist or cannot be read.")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError("The configuration file \(path) is not UTF-8 text.")
        }
        return try parse(text, path: path)
    }

    /// Parses TOML `text`; `path` names the file in messages and anchors relative paths.
    public static func parse(_ text: String, path: String) throws(ConfigurationError) -> DaemonConfiguration {
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw ConfigurationError("The configuration file \(path) is not valid TOML at line \(error.source.begin.line), column \(error.source.begin.column): \(error.description.trimmingCharacters(in: .whitespacesAndNewlines)).")
        } catch {
            throw ConfigurationError("The configuration file \(path) is not valid TOML: \(error).")
        }
        let folder = (path as NSString).deletingLastPathComponent
        func absolute(_ p: String) -> String {
            (p as NSString).isAbsolutePath || folder.isEmpty ? p : (folder as NSString).appendingPathComponent(p)
        }
        func bad(_ key: String, _ what: String) -> ConfigurationError {
            ConfigurationError("The configuration file \(path) has a bad value for '\(key)': \(what).")
        }
        func string(_ key: String) throws(ConfigurationError) -> String? {
            guard let value = table[key] else { return nil }
            guard let s = value.string, !s.isEmpty else { throw bad(key, "it must be a non-empty string, not \(value.debugDescription)") }
            return s
        }

        for key in table.keys where !keys.contains(key) {
            throw ConfigurationError("The configuration file \(path) has an unknown key '\(key)' (known keys: \(keys.joined(separator: ", "))).")
        }
        var c = DaemonConfiguration()
        if let s = try string("source") {
            do { c.source = try SourceSpec.parse(s) } catch { throw bad("source", error.description) }
            c.sourceText = s
        }
        c.model = try string("model").map(absolute)
        c.layer = try string("layer")
        if let value = table["unit"] {
            guard let u = value.int, u >= 0 else { throw bad("unit", "it must be a whole number of 0 or more, not \(value.debugDescription)") }
            c.unit = u
        }
        if let m = try string("mode") {
            if m == "off" {
                c.mode = .some(nil)
            } else if let mode = ProjectionMode(rawValue: m) {
                c.mode = .some(mode)
            } else {
                throw bad("mode", "it must be deconv, guided, gradient or off, not '\(m)'")
            }
        }
        c.recordings = try string("recordings").map(absolute)
        c.socket = try string("socket").map(absolute)
        if let m = try string("metrics") {
            do throws(ConfigurationError) { c.metrics = try MetricsAddress.parse(m) } catch { throw bad("metrics", error.description) }
        }
        return c
    }

    /// What differs from `old` among the settings that can change while running (layer, unit,
    /// mode, recordings folder), and the names of those that need a restart.
    public func changes(from old: DaemonConfiguration) -> (live: [String], restart: [String]) {
        var live: [String] = [], restart: [String] = []
        // A key taken out of the file leaves the running value as it is.
        if let l = layer, l != old.layer { live.append("layer \(old.layer ?? "default") → \(l)") }
        if let u = unit, u != old.unit { live.append("unit \(old.unit.map(String.init) ?? "default") → \(u)") }
        if mode != nil, mode != old.mode { live.append("mode \(Self.text(old.mode)) → \(Self.text(mode))") }
        if recordings != old.recordings { live.append("recordings \(old.recordings ?? ".") → \(recordings ?? ".")") }
        if sourceText != old.sourceText { restart.append("source") }
        if model != old.model { restart.append("model") }
        if socket != old.socket { restart.append("socket") }
        if metrics != old.metrics { restart.append("metrics") }
        return (live, restart)
    }

    static func text(_ mode: ProjectionMode??) -> String {
        switch mode {
        case .none: return "default"
        case .some(.none): return "off"
        case .some(.some(let m)): return m.rawValue
        }
    }
}

/// A local address to serve metrics on: a loopback host and a port.
public struct MetricsAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// "127.0.0.1:9464", "localhost:9464" or "[::1]:9464"; anything but loopback is refused, so
    /// that nothing listens on the network unless the host's own firewall rules say so.
    public static func parse(_ text: String) throws(ConfigurationError) -> MetricsAddress {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port > 0 else {
            throw ConfigurationError("'\(text)' is not HOST:PORT with a port from 1 to 65535")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard ["127.0.0.1", "localhost", "::1"].contains(host) else {
            throw ConfigurationError("'\(host)' is not a local address (127.0.0.1, localhost or [::1])")
        }
        return MetricsAddress(host: host == "localhost" ? "127.0.0.1" : host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
