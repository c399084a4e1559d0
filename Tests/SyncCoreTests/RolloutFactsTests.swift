import Foundation
import Testing

@testable import SyncCore

/// Facts the checklists check from the settings and the journal.
struct RolloutFactsTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    private func settings(_ text: String, environment: [String: String] = [:]) -> RolloutSettings {
        RolloutSettings.read(flags: [:], environment: environment, file: DotenvFile(text: text, path: ".env"))
    }

    private func entry(_ command: String, _ result: String = "ok", hoursAgo: Double, details: [String: JSONValue]? = nil) -> JournalEntry {
        JournalEntry(command: command, result: result, details: details, time: now.addingTimeInterval(-hoursAgo * 3600), user: "op", host: "h")
    }

    private func check(_ fact: RolloutFact, _ entries: [JournalEntry], env: String = "SYNC_ENABLED=true\n") -> CheckOutcome {
        RolloutFacts(settings: settings(env), entries: entries, now: now).evaluate(fact)
    }

    @Test func rolloutSettingsIgnoreAMalformedAtlasURI() {
        let read = settings("SYNC_ENABLED=true\nMONGODB_ATLAS_URI=mongodb://user:pa@ss:bad:port/x\nSYNC_STATE_DIR=/var/lib/s\n")
        #expect(read.syncEnabled == true)
        #expect(read.stateDir == "/var/lib/s")
        #expect(read.queueFile == "/var/lib/s/sync-queue.jsonl")
        #expect(read.problems.isEmpty)
        #expect(throws: ConfigError.self) {
            try Settings.resolve(flags: [:], environment: [:], file: DotenvFile(text: "MONGODB_ATLAS_URI=mongodb://user:pa@ss:bad:port/x\n"))
        }
    }

    @Test func rolloutSettingsReportAnInvalidSwitchInsteadOfFailing() {
        let read = settings("SYNC_ENABLED=maybe\nSYNC_EXCLUDED_COLLECTIONS=a,$b\n")
        #expect(read.syncEnabled == nil)
        #expect(read.excludedCollections.isEmpty)
        #expect(read.problems.count == 2)
        #expect(check(.syncDisabled, [], env: "SYNC_ENABLED=maybe\n").result == .fail)
    }

    @Test func environmentOverridesTheFileAsForSettings() {
        let read = settings("SYNC_ENABLED=true\n", environment: ["SYNC_ENABLED": "false"])
        #expect(read.syncEnabled == false)
        #expect(read.syncEnabledSource == .env)
    }

    @Test func switchFacts() {
        #expect(check(.syncEnabled, []).result == .pass)
        #expect(check(.syncDisabled, []).result == .fail)
        #expect(check(.syncDisabled, []).detail.contains("syncctl disable"))
        #expect(check(.allCollectionsIncluded, [], env: "SYNC_EXCLUDED_COLLECTIONS=bills\n").detail.contains("bills"))
        #expect(check(.allCollectionsIncluded, [], env: "SYNC_EXCLUDED_COLLECTIONS=\n").result == .pass)
    }

    @Test func backupMustBeRecentAndVerified() {
        #expect(check(.backupRecent, []).result == .fail)
        let verified = entry("backup", hoursAgo: 3, details: ["verified": true])
        let unverified = entry("backup", hoursAgo: 2, details: ["verified": false])
        let old = entry("backup", hoursAgo: 30, details: ["verified": true])
        let failed = entry("backup", "failed", hoursAgo: 1)
        #expect(check(.backupRecent, [verified]).result == .pass)
        #expect(check(.backupVerified, [verified]).result == .pass)
        #expect(check(.backupVerified, [verified, unverified]).result == .fail)
        #expect(check(.backupRecent, [old]).result == .fail)
        // A failed run does not hide the good backup before it.
        #expect(check(.backupVerified, [verified, failed]).result == .pass)
    }

    @Test func fullSyncMustFollowTheLastEnable() {
        let enable = entry("enable", hoursAgo: 6)
        let sync = entry("full-sync", hoursAgo: 5)
        let enableAgain = entry("enable", hoursAgo: 4)
        let dryRun = entry("full-sync", hoursAgo: 1, details: ["dryRun": true])
        #expect(check(.fullSyncOK, []).result == .fail)
        #expect(check(.fullSyncOK, [enable, sync]).result == .pass)
        #expect(check(.fullSyncOK, [enable, sync, enableAgain]).result == .fail)
        #expect(check(.fullSyncOK, [enable, sync, enableAgain, dryRun]).result == .fail)
        #expect(check(.fullSyncOK, [enable, entry("full-sync", "failed", hoursAgo: 1)]).detail.contains("failed"))
    }

    @Test func scheduledJobsMustBeRecent() {
        #expect(check(.fullSyncRecent, [entry("full-sync", hoursAgo: 25)]).result == .pass)
        #expect(check(.fullSyncRecent, [entry("full-sync", hoursAgo: 27)]).result == .fail)
        #expect(check(.consistencyRecent, [entry("verify-consistency", hoursAgo: 24 * 7)]).result == .pass)
        #expect(check(.consistencyRecent, [entry("verify-consistency", hoursAgo: 24 * 9)]).result == .fail)
    }

    @Test func consistencyIsTheNewestCheck() {
        #expect(check(.consistencyOK, [entry("verify-consistency", hoursAgo: 2)]).result == .pass)
        #expect(check(.consistencyOK, [entry("verify-consistency", hoursAgo: 2), entry("verify-consistency", "problems", hoursAgo: 1)]).result == .fail)
    }

    @Test func signOffIsPerPhase() {
        let signOff = entry("sign-off", hoursAgo: 1, details: ["phase": "phase2", "name": "Ana"])
        #expect(check(.signedOff(phase: "phase2"), [signOff]).detail.contains("Ana"))
        #expect(check(.signedOff(phase: "phase1"), [signOff]).result == .fail)
    }

    @Test func factIDsRoundTrip() {
        for fact in [RolloutFact.syncEnabled, .syncDisabled, .allCollectionsIncluded, .backupRecent, .backupVerified, .fullSyncOK,
                     .fullSyncRecent, .consistencyOK, .consistencyRecent, .signedOff(phase: "phase3")] {
            #expect(RolloutFact(id: fact.id) == fact)
        }
        #expect(RolloutFact(id: "state.signed-off-phase9") == nil)
        #expect(RolloutFact(id: "state.nothing") == nil)
    }
}

@Test func testCommandsPassOnlyWhenTheirNewestRunPassed() throws {
    let settings = RolloutSettings.read(flags: [:], environment: [:], file: DotenvFile(text: "", path: ".env"))
    let now = Date()
    func facts(_ entries: [JournalEntry]) -> RolloutFacts { RolloutFacts(settings: settings, entries: entries, now: now) }
    #expect(facts([]).evaluate(.perfTestOK).result == .fail)
    let passedThenMissed = [
        JournalEntry(command: "perf-test", result: "ok", time: now - 60),
        JournalEntry(command: "perf-test", result: "problems", time: now),
    ]
    let outcome = facts(passedThenMissed).evaluate(.perfTestOK)
    #expect(outcome.result == .fail)
    #expect(outcome.detail.contains("problems"))
    #expect(facts([JournalEntry(command: "resilience-test", result: "ok", time: now)]).evaluate(.resilienceTestOK).result == .pass)
    #expect(RolloutFact(id: "state.resilience-test-ok") == .resilienceTestOK)
}
