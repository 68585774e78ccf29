import Foundation
import Gateway
import Testing

/// Every setting is a promise: each environment name the gateway reads has its row in the README's
/// configuration table.
@Suite struct DocumentedSettingsTests {
    @Test func everySettingHasAREADMERow() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let rows = readme.split(separator: "\n").filter { $0.hasPrefix("|") }
        for name in GatewayConfiguration.environmentNames {
            #expect(rows.contains { $0.contains("`\(name)`") }, "README.md has no row for \(name)")
        }
    }
}
