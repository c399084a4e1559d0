import Foundation
import SyncTestSupport
import Testing

/// `syncctl status`: read from files only.
struct StatusCommandTests {
    @Test func statusShowsTheSwitchTheExclusionsAndTheLastChange() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        let uris = RolloutFixture.closedURIs()
        try SyncctlProcess.writeEnv(RolloutFixture.trickyEnv(local: uris.local, atlas: uris.atlas), in: dir)
        #expect(try SyncctlProcess.run(["enable", "--exclude", "bills,orders", "--force", "--yes", "--timeout", "1"], in: dir).status == 0)

        let run = try SyncctlProcess.run(["status"], in: dir)
        #expect(run.status == 0, "\(run.output)")
        #expect(run.stdout.contains("enabled"))
        #expect(run.stdout.contains("bills, orders"))
        #expect(run.stdout.contains("last change   enable  ok"))
        #expect(run.stdout.contains("none recorded (syncctl full-sync)"))
        #expect(run.stdout.contains("queue         0 pending"))
        #expect(!run.output.contains("s3cr"))

        let json = try RolloutFixture.json(try SyncctlProcess.run(["status", "--json"], in: dir))
        #expect(json["command"] as? String == "status")
        #expect(json["syncEnabled"] as? Bool == true)
        #expect(json["excludedCollections"] as? [String] == ["bills", "orders"])
        #expect((json["lastChange"] as? [String: Any])?["command"] as? String == "enable")
        #expect(json["lastBackup"] is NSNull)
        #expect((json["queueReport"] as? [String: Any])?["depth"] as? Int == 0)
    }

    @Test func statusShowsOtherCommandsJournalEntriesAndThePendingQueue() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        try SyncctlProcess.writeEnv("SYNC_ENABLED=false\n", in: dir)
        let state = dir.appendingPathComponent(".syncctl")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        // What `syncctl backup --verify` and `syncctl full-sync` append (issue 4 and 5).
        let lines = [
            #"{"command":"backup","details":{"bytes":51877312,"collections":5,"database":"bomba","documents":48210,"gzip":false,"path":"backups/20250101T000000Z","removed":[],"verified":true},"host":"h","result":"ok","time":"2025-01-01T00:00:00Z","user":"ops"}"#,
            #"{"command":"full-sync","details":{"documentsWritten":12},"host":"h","result":"failed","time":"2025-01-01T03:00:00Z","user":"cron"}"#,
        ]
        try (lines.joined(separator: "\n") + "\n").write(to: state.appendingPathComponent("journal.jsonl"), atomically: true, encoding: .utf8)
        try "{\"op\":1}\n{\"op\":2}\n{\"op\":3}\n{\"op\":".write(to: state.appendingPathComponent("sync-queue.jsonl"), atomically: true, encoding: .utf8)

        let run = try SyncctlProcess.run(["status"], in: dir)
        #expect(run.status == 0)
        #expect(run.stdout.contains("disabled"))
        #expect(run.stdout.contains("2025-01-01 00:00 UTC"))
        #expect(run.stdout.contains("verified=true"))
        #expect(run.stdout.contains("failed  2025-01-01 03:00 UTC"))
        #expect(run.stdout.contains("queue         3 pending"))
        let json = try RolloutFixture.json(try SyncctlProcess.run(["status", "--json"], in: dir))
        #expect((json["queueReport"] as? [String: Any])?["depth"] as? Int == 3)
        #expect((json["lastFullSync"] as? [String: Any])?["result"] as? String == "failed")
    }

    @Test func statusWorksWithAMalformedAtlasURIAndShowsAnInvalidSwitch() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        try SyncctlProcess.writeEnv("SYNC_ENABLED=perhaps\nMONGODB_ATLAS_URI=mongodb://u:p@ss:x@h/db\n", in: dir)
        let run = try SyncctlProcess.run(["status"], in: dir)
        #expect(run.status == 0, "\(run.output)")
        #expect(run.stdout.contains("invalid"))
        #expect(run.stderr.contains("SYNC_ENABLED"))
        #expect(!run.output.contains("p@ss"))
    }
}
