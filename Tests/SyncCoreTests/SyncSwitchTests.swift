import Testing

@testable import SyncCore

struct SyncSwitchTests {
    private func effect(_ before: String, _ exclusions: SyncSwitch.Exclusions) throws -> SyncSwitch.Effect {
        let file = DotenvFile(text: before, path: ".env")
        let updated = try file.updating(SyncSwitch.enableChanges(exclusions, in: file))
        return SyncSwitch.effect(of: DotenvEditPlan(path: ".env", target: "/x/.env", original: file, updated: updated, changes: [:]))
    }

    @Test func switchingOnMakesAFullSyncOfEverythingDue() throws {
        let result = try effect("SYNC_ENABLED=false\n", .exclude(["bills"]))
        #expect(result.fullSyncDue)
        #expect(result.newlyExcluded == ["bills"])
        #expect(result.fullSyncCommand() == "syncctl full-sync")
    }

    @Test func includingCollectionsNamesThemInTheFullSyncCommand() throws {
        let result = try effect("SYNC_ENABLED=true\nSYNC_EXCLUDED_COLLECTIONS=bills, orders,sessions\n", .includeAll)
        #expect(result.newlyIncluded == ["bills", "orders", "sessions"])
        #expect(result.fullSyncCommand(extraArguments: ["--env-file", "server/.env"])
            == "syncctl full-sync --env-file server/.env --collections bills,orders,sessions")
    }

    @Test func nothingDueWhenNoCollectionJoins() throws {
        #expect(try effect("SYNC_ENABLED=true\n", .exclude(["x"])).fullSyncCommand() == nil)
        #expect(try effect("SYNC_ENABLED=true\n", .keep).fullSyncDue == false)
    }

    @Test func oddCollectionNamesAreQuotedForTheShell() {
        #expect(SyncSwitch.shellQuoted("bills,orders") == "bills,orders")
        #expect(SyncSwitch.shellQuoted("my bills,it's") == "'my bills,it'\\''s'")
    }
}
