import Foundation
import SyncCore
import SyncTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `kill -9` of syncctl at any moment of a backup or a restore: running the same command
/// again finishes correctly, and nothing half-written is ever taken for a backup.
@Suite(.enabled(if: TestServers.available, "needs SYNCCTL_TEST_LOCAL_URI and SYNCCTL_TEST_ATLAS_URI"))
struct RestoreKillTests {
    /// Starts syncctl, kills it with SIGKILL after `delay` (it may have finished by then).
    private func killed(_ arguments: [String], in directory: URL, after delay: Duration) throws {
        let run = try BackgroundSyncctl(arguments, in: directory)
        usleep(UInt32(delay.seconds * 1_000_000))
        _ = run.terminate(signal: SIGKILL)
    }

    /// Enough documents (30k of ~0.5 KB) that the run is still going at some of the kill times.
    private func seed(_ connection: MongoConnection, _ database: String) async throws {
        let writer = BulkWriter(connection: connection, database: database, collection: "orders")
        for n in 0..<30_000 {
            try await writer.add(.insert(["_id": .int32(Int32(n)), "pad": .string(String(repeating: "x", count: 500))]))
        }
        try await writer.flush()
    }

    @Test(arguments: [50, 250, 600])
    func aRestoreKilledAtAnyMomentFinishesWhenRunAgain(milliseconds: Int) async throws {
        try await withScratchDatabase(.local, "kill-restore") { connection, database in
            try await seed(connection, database)
            try await connection.createIndexes([["key": .document(["pad": 1]), "name": "pad_1"]], database: database, collection: "orders")
            let dir = try SyncctlProcess.scratchDirectory()
            try SyncctlProcess.writeEnv(
                "MONGODB_LOCAL_URI=\(TestServers.uri(.local, database: database))\nSYNC_STATE_DIR=state\nSYNC_BACKUP_DIR=backups\n", in: dir)
            let backup = try SyncctlProcess.run(["backup", "--out", "b"], in: dir)
            #expect(backup.status == 0, "\(backup.output)")

            try await withScratchDatabase(.local, "kill-target") { _, target in
                try killed(["restore", "b", "--to-db", target], in: dir, after: .milliseconds(milliseconds))
                let again = try SyncctlProcess.run(["restore", "b", "--to-db", target], in: dir)
                // Killed before its end, the restore is resumed (0); killed after its checkpoint
                // was cleared, it had finished, and running it again without --drop refuses (73).
                let checkpoint = dir.appendingPathComponent("state/checkpoints/restore-\(target).json").path
                #expect(again.status == 0 || (again.status == 73 && !FileManager.default.fileExists(atPath: checkpoint)), "\(again.output)")
                #expect(try await connection.countDocuments(database: target, collection: "orders") == 30_000)
                let indexes = try await connection.indexes(database: target, collection: "orders")
                #expect(indexes.contains { $0["name"]?.stringValue == "pad_1" })
            }
        }
    }

    @Test(arguments: [20, 150, 400])
    func aBackupKilledAtAnyMomentLeavesNoBackupThatLooksComplete(milliseconds: Int) async throws {
        try await withScratchDatabase(.local, "kill-backup") { connection, database in
            try await seed(connection, database)
            let dir = try SyncctlProcess.scratchDirectory()
            try SyncctlProcess.writeEnv(
                "MONGODB_LOCAL_URI=\(TestServers.uri(.local, database: database))\nSYNC_STATE_DIR=state\nSYNC_BACKUP_DIR=backups\n", in: dir)
            try killed(["backup"], in: dir, after: .milliseconds(milliseconds))
            // Whatever is listed is whole: every backup listed passes the offline check.
            let listed = try JSONSerialization.jsonObject(with: Data(try SyncctlProcess.run(["backup", "list", "--json"], in: dir).stdout.utf8))
                as? [String: Any]
            for backup in listed?["backups"] as? [[String: Any]] ?? [] {
                let path = try #require(backup["path"] as? String)
                #expect(try SyncctlProcess.run(["backup", "verify", path], in: dir).status == 0)
            }
            // The next backup completes and clears what the killed one left.
            let again = try SyncctlProcess.run(["backup", "--verify"], in: dir)
            #expect(again.status == 0, "\(again.output)")
            let names = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("backups").path)
            #expect(!names.contains { $0.contains(".partial-") })
        }
    }
}
