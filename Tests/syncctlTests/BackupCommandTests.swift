import Foundation
import SyncCore
import SyncTestSupport
import Testing

/// `syncctl backup`, `backup verify` and `backup list` run as a binary against the local test
/// server: exit codes, files on disk, the journal and the metrics a cron job leaves.
@Suite(.enabled(if: TestServers.available, "needs SYNCCTL_TEST_LOCAL_URI and SYNCCTL_TEST_ATLAS_URI"))
struct BackupCommandTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/mongodump-100.7.0").path

    /// A directory with a .env for `database`, and the fixture restored into it.
    private func prepared(_ database: String) throws -> URL {
        let dir = try SyncctlProcess.scratchDirectory()
        try SyncctlProcess.writeEnv(
            "SYNC_ENABLED=false\nMONGODB_LOCAL_URI=\(TestServers.uri(.local, database: database))\nSYNC_BACKUP_DIR=backups\nSYNC_STATE_DIR=state\n",
            in: dir)
        let restore = try SyncctlProcess.run(["restore", "\(BackupCommandTests.fixture)/dump-dir"], in: dir)  // into the .env's database
        #expect(restore.status == 0, "\(restore.output)")
        return dir
    }

    private func json(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
    }

    @Test func backupWithVerifyWritesAVerifiedBackupAJournalLineAndMetrics() async throws {
        try await withScratchDatabase(.local, "e2e-backup") { _, database in
            let dir = try prepared(database)
            let run = try SyncctlProcess.run(["backup", "--verify", "--json"], in: dir)
            #expect(run.status == 0, "\(run.output)")
            let report = try json(run.stdout)
            #expect(report["ok"] as? Bool == true)
            let path = try #require(report["path"] as? String)
            #expect(path.hasPrefix("backups/"))
            #expect((report["verification"] as? [String: Any])?["verified"] as? Bool == true)
            let backup = dir.appendingPathComponent(path).path
            #expect(FileManager.default.fileExists(atPath: "\(backup)/\(database)/users.bson"))
            #expect(FileManager.default.fileExists(atPath: "\(backup)/settings.env"))

            let journal = try String(contentsOf: dir.appendingPathComponent("state/journal.jsonl"), encoding: .utf8)
            let entry = try json(String(journal.split(separator: "\n").last { $0.contains("\"backup\"") } ?? ""))
            #expect(entry["result"] as? String == "ok")
            let details = entry["details"] as? [String: Any] ?? [:]
            #expect(details["path"] as? String == path)
            #expect(details["verified"] as? Bool == true)
            #expect((details["collections"] as? NSNumber)?.intValue == 5)
            #expect((details["documents"] as? NSNumber)?.intValue == 1670)
            let metrics = try String(contentsOf: dir.appendingPathComponent("state/metrics/syncctl.prom"), encoding: .utf8)
            #expect(metrics.contains("syncctl_job_last_success_timestamp_seconds{job=\"backup\"}"))

            let list = try SyncctlProcess.run(["backup", "list", "--json"], in: dir)
            let backups = try json(list.stdout)["backups"] as? [[String: Any]] ?? []
            #expect(backups.count == 1)
            #expect(backups.first?["verified"] as? Bool == true)
            #expect((backups.first?["documents"] as? NSNumber)?.intValue == 1670)
            let human = try SyncctlProcess.run(["backup", "list"], in: dir)
            #expect(human.stdout.contains("1,670") && human.stdout.contains("yes"))
        }
    }

    @Test func backupVerifyRefusesEachKindOfDamageWith65NamingTheFile() async throws {
        try await withScratchDatabase(.local, "e2e-damage") { _, database in
            let dir = try prepared(database)
            let made = try SyncctlProcess.run(["backup", "--out", "good"], in: dir)
            #expect(made.status == 0, "\(made.output)")
            #expect(try SyncctlProcess.run(["backup", "verify", "good"], in: dir).status == 0)
            let manager = FileManager.default
            typealias Damage = (name: String, file: String, apply: (String) throws -> Void)
            let damages: [Damage] = [
                ("truncated", "users.bson", { path in
                    let data = try Data(contentsOf: URL(fileURLWithPath: "\(path)/\(database)/users.bson"))
                    try data.prefix(data.count - 7).write(to: URL(fileURLWithPath: "\(path)/\(database)/users.bson"))
                }),
                ("flipped byte", "orders.bson", { path in
                    var data = try Data(contentsOf: URL(fileURLWithPath: "\(path)/\(database)/orders.bson"))
                    data[data.count / 2] ^= 0x01
                    try data.write(to: URL(fileURLWithPath: "\(path)/\(database)/orders.bson"))
                }),
                ("missing file", "bills.bson", { path in try manager.removeItem(atPath: "\(path)/\(database)/bills.bson") }),
                ("missing metadata", "sessions.metadata.json", { path in try manager.removeItem(atPath: "\(path)/\(database)/sessions.metadata.json") }),
                ("wrong count in the manifest", "menuitems.bson", { path in
                    let text = try String(contentsOfFile: "\(path)/manifest.json", encoding: .utf8)
                    try text.replacingOccurrences(of: "\"documents\" : 120", with: "\"documents\" : 121")
                        .write(toFile: "\(path)/manifest.json", atomically: true, encoding: .utf8)
                }),
                ("manifest not JSON", "manifest.json", { path in
                    try "{\"format\": \"syncctl-backup\", ".write(toFile: "\(path)/manifest.json", atomically: true, encoding: .utf8)
                }),
                ("a file the manifest does not list", "extra.bson", { path in
                    try manager.copyItem(atPath: "\(path)/\(database)/users.bson", toPath: "\(path)/\(database)/extra.bson")
                }),
            ]
            for damage in damages {
                let copy = "damaged-\(damage.name.replacingOccurrences(of: " ", with: "-"))"
                try manager.copyItem(atPath: dir.appendingPathComponent("good").path, toPath: dir.appendingPathComponent(copy).path)
                try damage.apply(dir.appendingPathComponent(copy).path)
                let verify = try SyncctlProcess.run(["backup", "verify", copy], in: dir)
                #expect(verify.status == 65, "\(damage.name): \(verify.output)")
                #expect(verify.stderr.contains(damage.file), "\(damage.name): \(verify.stderr)")
                #expect(verify.stderr.split(separator: "\n").count == 1, "\(damage.name): \(verify.stderr)")
                let restore = try SyncctlProcess.run(["restore", copy, "--to-db", "\(database)_x"], in: dir)
                #expect(restore.status == 65, "\(damage.name): \(restore.output)")
                #expect(restore.stderr.contains(damage.file), "\(damage.name)")
            }
            let connection = try TestServers.connection(.local)
            defer { connection.close() }
            #expect(!(try await connection.databaseNames()).contains("\(database)_x"))
        }
    }

    @Test func missingBackupDirectoryExits66() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        let verify = try SyncctlProcess.run(["backup", "verify", "nowhere"], in: dir)
        #expect(verify.status == 66)
        #expect(verify.stderr.contains("nowhere"))
        let restore = try SyncctlProcess.run(["restore", "nowhere", "--no-env-file"], in: dir)
        #expect(restore.status == 66)
    }

    @Test func keepMustBeAtLeastOne() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        #expect(try SyncctlProcess.run(["backup", "--keep", "0", "--no-env-file"], in: dir).status == 64)
    }

    @Test func unknownCollectionExits66AndLeavesNoBackup() async throws {
        try await withScratchDatabase(.local, "e2e-unknown") { _, database in
            let dir = try prepared(database)
            let run = try SyncctlProcess.run(["backup", "--collections", "users,nope"], in: dir)
            #expect(run.status == 66)
            #expect(run.stderr.contains("nope"))
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("backups").path)) ?? []).isEmpty)
            let journal = try String(contentsOf: dir.appendingPathComponent("state/journal.jsonl"), encoding: .utf8)
            #expect(journal.split(separator: "\n").last?.contains("\"failed\"") == true)
        }
    }

    @Test func gzipKeepAndQuietWorkTogether() async throws {
        try await withScratchDatabase(.local, "e2e-keep") { _, database in
            let dir = try prepared(database)
            for _ in 0..<3 {
                let run = try SyncctlProcess.run(["backup", "--gzip", "--keep", "2", "--quiet"], in: dir)
                #expect(run.status == 0 && run.output.isEmpty, "\(run.output)")
            }
            let names = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("backups").path)
            #expect(names.count == 2)
            let newest = try #require(names.sorted().last)
            let files = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("backups/\(newest)/\(database)").path)
            #expect(files.contains("users.bson.gz") && files.contains("users.metadata.json.gz"))
        }
    }
}

/// A server that refuses connections: exit 69 with the reason, and nothing left behind that
/// could pass for a backup (no server needed).
@Test func backupAndRestoreOfAnUnreachableServerExit69AndLeaveNothing() throws {
    let dir = try SyncctlProcess.scratchDirectory()
    let port = FaultyEndpoints.closedPort()
    try SyncctlProcess.writeEnv(
        "MONGODB_LOCAL_URI=mongodb://127.0.0.1:\(port)/bomba\nSYNC_BACKUP_DIR=backups\nSYNC_STATE_DIR=state\n", in: dir)
    let backup = try SyncctlProcess.run(["backup", "--timeout", "1"], in: dir)
    #expect(backup.status == 69, "\(backup.output)")
    #expect(backup.stderr.split(separator: "\n").count == 1)
    #expect(((try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("backups").path)) ?? []).isEmpty)
    let restore = try SyncctlProcess.run(["restore", "\(BackupCommandTests.fixture)/dump-dir", "--timeout", "1"], in: dir)
    #expect(restore.status == 69, "\(restore.output)")
}
