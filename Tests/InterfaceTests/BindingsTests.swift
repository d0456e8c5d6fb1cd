import Foundation
import Interface
import Testing
import Visualization

/// The one bindings table: README documents it, the controller and the help overlay follow it.
@Suite struct BindingsTests {
    /// The backtick-quoted key names in the first column of README's key table ("## The window").
    static func documentedKeys() throws -> [String] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: url, encoding: .utf8)
        let section = try #require(text.range(of: "\n## The window\n"), "README.md has a section \"## The window\"")
        let rest = text[section.upperBound...]
        let end = rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex
        var names: [String] = []
        var inTable = false
        for line in rest[..<end].split(separator: "\n", omittingEmptySubsequences: false) {
            guard line.hasPrefix("|") else {
                if inTable { break }
                continue
            }
            inTable = true
            let cells = line.split(separator: "|", omittingEmptySubsequences: false)
            guard cells.count >= 3 else { continue }
            let first = cells[1]
            // Every `…` span of the first cell is one key or click.
            let parts = first.split(separator: "`", omittingEmptySubsequences: false)
            for (i, part) in parts.enumerated() where i % 2 == 1 { names.append(String(part)) }
        }
        return names
    }

    @Test func everyBindingIsDocumentedInREADMEAndEveryDocumentedKeyIsBound() throws {
        let documented = try Self.documentedKeys()
        #expect(documented.count > 20, "README's key table was found: \(documented)")
        let bound = Bindings.all.map(\.name)
        for name in bound { #expect(documented.contains(name), "binding '\(name)' is missing from README's key table") }
        for name in documented { #expect(bound.contains(name), "README documents '\(name)', which nothing binds") }
        #expect(Set(documented).count == documented.count, "README lists a key twice: \(documented)")
    }

    @Test func noTwoBindingsShareANameOrAKey() {
        let all = Bindings.all
        #expect(Set(all.map(\.name)).count == all.count)
        for (i, a) in all.enumerated() {
            for b in all[(i + 1)...] {
                #expect(a.trigger != b.trigger, "\(a.name) and \(b.name) have the same trigger")
            }
        }
    }

    @Test func everyKeyBindingDispatchesItsOwnAction() {
        for b in Bindings.all {
            guard case .key(let key, let shift) = b.trigger else { continue }
            for s in shift.map({ [$0] }) ?? [false, true] {
                #expect(Bindings.action(for: key, shift: s) == b.action, "\(b.name) with shift \(s)")
            }
        }
        #expect(Bindings.action(for: .character("/"), shift: false) == nil, "only shift / is ?")
        #expect(Bindings.action(for: .tab, shift: false) == nil)
    }

    @Test func theHelpOverlayListsEachRowOnceInTableOrder() {
        let rows = Bindings.help
        #expect(rows.count == Set(rows.map(\.key)).count)
        #expect(rows.first?.key == "click tile" && rows.last?.key == "Q or Esc")
        #expect(rows.contains { $0.key == "← → ↑ ↓" && $0.action == "move the selected unit (shift: by 3)" })
        for b in Bindings.all { #expect(rows.contains { $0.key == b.label && $0.action == b.help }) }
    }

    @Test func changesAreLoggedInTheirFixedWording() {
        let shapes = ControllerTests.shapes
        var view = ViewSettings()
        view.layer = 7
        view.unit = 4
        let geometry = ControllerTests.make().1
        var c = Controller(layers: shapes, layerNames: ControllerTests.names, view: view)
        var before = c
        _ = c.handle(.mouseDown(x: geometry.input.picture.x + 1, y: geometry.input.picture.y + 1, right: false), geometry: geometry)
        #expect(c.changeLines(since: before) == ["Selected layer_7:4 at 0,0."])
        before = c
        _ = c.handle(.key(.right, shift: false), geometry: geometry)
        #expect(c.changeLines(since: before) == ["Selected layer_7:5 at 0,0."])
        before = c
        _ = c.handle(.key(.character("p"), shift: false), geometry: geometry)
        #expect(c.changeLines(since: before) == ["Projection mode deconv, filter raw."])
        before = c
        _ = c.handle(.key(.space, shift: false), geometry: geometry)
        _ = c.handle(.key(.character("h"), shift: false), geometry: geometry)
        #expect(c.changeLines(since: before) == ["Help shown.", "Frame frozen."])
        before = c
        #expect(c.changeLines(since: before).isEmpty, "nothing changed, nothing logged")
    }
}
