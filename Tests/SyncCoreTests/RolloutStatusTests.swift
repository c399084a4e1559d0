import Foundation
import Testing

@testable import SyncCore

struct RolloutStatusTests {
    @Test func statusCollectsTheNewestEntriesOfEachKind() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("syncctl-status-\(UUID().uuidString)").path
        let settings = RolloutSettings.read(
            flags: [:], environment: [:],
            file: DotenvFile(text: "SYNC_ENABLED=true\nSYNC_EXCLUDED_COLLECTIONS=bills\nSYNC_STATE_DIR=\(directory)\n", path: ".env"))
        #expect(RolloutStatus.gather(settings: settings).lastChange == nil)

        let journal = Journal(state: settings.state)
        try journal.append(JournalEntry(command: "backup", result: "ok", details: ["verified": true]))
        try journal.append(JournalEntry(command: "enable", result: "ok"))
        try journal.append(JournalEntry(command: "full-sync", result: "ok"))
        try journal.append(JournalEntry(command: "full-sync", result: "ok", details: ["dryRun": true]))
        try journal.append(JournalEntry(command: "sign-off", result: "ok", details: ["phase": "phase1", "name": "A"]))
        try journal.append(JournalEntry(command: "sign-off", result: "ok", details: ["phase": "phase1", "name": "B"]))

        let status = RolloutStatus.gather(settings: settings)
        #expect(status.syncEnabled == true)
        #expect(status.excludedCollections == ["bills"])
        #expect(status.lastChange?.command == "enable")
        #expect(status.lastBackup?.details?["verified"] == .bool(true))
        #expect(status.lastFullSync?.details == nil)
        #expect(status.lastVerify == nil)
        #expect(status.signOffs["phase1"]?.details?["name"] == .string("B"))
    }
}
