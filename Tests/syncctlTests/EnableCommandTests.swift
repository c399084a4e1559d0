import Foundation
import SyncTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Fixtures the rollout commands' end-to-end tests share.
enum RolloutFixture {
    /// A dotenv file with everything that trips naive editors: comments, `export`, quotes of each
    /// kind, `KEY: value`, CRLF endings, a multi-line value, duplicate keys (the last one wins)
    /// and no newline at the end. The Atlas password must never be printed.
    static func trickyEnv(local: String, atlas: String, enabled: String = "\"false\"", excluded: String = "sessions") -> String {
        [
            "# Bomba — dual MongoDB sync\r\n",
            "export SYNC_ENABLED=\(enabled)   # quoted, exported\r\n",
            "MONGODB_LOCAL_URI=\(local)\r\n",
            "MONGODB_ATLAS_URI='\(atlas)'\r\n",
            "\r\n",
            "SYNC_EXCLUDED_COLLECTIONS=old-value\r\n",
            "SYNC_EXCLUDED_COLLECTIONS=\(excluded) # the last one wins\r\n",
            "SYNC_BATCH_SIZE: 100\r\n",
            "GREETING=\"line one\\nline two\"\r\n",
            "NOTE=`back ticks`\r\n",
            "TRAILING=no-newline-at-end",
        ].joined()
    }

    static let password = "s3cr%40t-pw"

    /// URIs on a port nobody listens on: preflight fails fast ("refused").
    static func closedURIs() -> (local: String, atlas: String) {
        let port = FaultyEndpoints.closedPort()
        return ("mongodb://127.0.0.1:\(port)/bomba", "mongodb://sync:\(password)@127.0.0.1:\(port)/bomba?authSource=admin")
    }

    static func read(_ directory: URL, _ name: String = ".env") throws -> String {
        try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }

    static func mode(_ directory: URL, _ name: String = ".env") throws -> Int {
        try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(name).path)[.posixPermissions] as? Int ?? -1
    }

    static func journal(_ directory: URL) -> [[String: Any]] {
        guard let text = try? String(contentsOf: directory.appendingPathComponent(".syncctl/journal.jsonl"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    static func json(_ run: SyncctlRun) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "not one JSON document: \(run.stdout)")
    }

    /// A finished backup in mongodump's layout, as phase 3's preflight wants one.
    static func writeBackup(in directory: URL) throws {
        let dump = directory.appendingPathComponent("backups/20250101T000000Z/bomba")
        try FileManager.default.createDirectory(at: dump, withIntermediateDirectories: true)
        try Data().write(to: dump.appendingPathComponent("users.bson"))
    }
}

/// `syncctl enable` run as a binary.
struct EnableCommandTests {
    @Test func enableChangesOnlyTheTargetBytesOfATrickyFile() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        let uris = RolloutFixture.closedURIs()
        let original = RolloutFixture.trickyEnv(local: uris.local, atlas: uris.atlas)
        try SyncctlProcess.writeEnv(original, in: dir)

        let enable = try SyncctlProcess.run(["enable", "--exclude", "bills,orders", "--force", "--yes", "--timeout", "1"], in: dir)
        #expect(enable.status == 0, "\(enable.output)")
        let enabled = RolloutFixture.trickyEnv(local: uris.local, atlas: uris.atlas, enabled: "\"true\"", excluded: "bills,orders")
        #expect(try RolloutFixture.read(dir) == enabled)
        #expect(try RolloutFixture.mode(dir) == 0o600)
        #expect(enable.stdout.contains("written .env"))
        #expect(enable.stderr.contains("--force"))
        #expect(!enable.output.contains(RolloutFixture.password) && !enable.output.contains("s3cr"))

        let includeAll = try SyncctlProcess.run(["enable", "--include-all", "--force", "--yes", "--timeout", "1"], in: dir)
        #expect(includeAll.status == 0, "\(includeAll.output)")
        #expect(try RolloutFixture.read(dir) == RolloutFixture.trickyEnv(local: uris.local, atlas: uris.atlas, enabled: "\"true\"", excluded: ""))
        #expect(includeAll.stdout.contains("syncctl full-sync --collections bills,orders"))

        let disable = try SyncctlProcess.run(["disable", "--yes"], in: dir)
        #expect(disable.status == 0, "\(disable.output)")
        #expect(try RolloutFixture.read(dir) == RolloutFixture.trickyEnv(local: uris.local, atlas: uris.atlas, excluded: ""))
        #expect(try RolloutFixture.mode(dir) == 0o600)

        let journal = RolloutFixture.journal(dir)
        #expect(journal.map { $0["command"] as? String } == ["enable", "enable", "disable"])
        let changes = journal[0]["changes"] as? [String: [String: String]]
        #expect(changes?["SYNC_ENABLED"] == ["old": "false", "new": "true"])
        #expect(changes?["SYNC_EXCLUDED_COLLECTIONS"] == ["old": "sessions", "new": "bills,orders"])
        #expect((journal[0]["details"] as? [String: Any])?["forced"] as? Bool == true)
        // Each edit kept the file as it was before it.
        let backups = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent(".syncctl/env-backups").path).sorted()
        #expect(backups.count == 3)
        #expect(try RolloutFixture.read(dir, ".syncctl/env-backups/\(backups[0])") == original)
    }

    @Test func symlinkedEnvIsEditedAtItsTarget() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        let uris = RolloutFixture.closedURIs()
        try SyncctlProcess.writeEnv(RolloutFixture.trickyEnv(local: uris.local, atlas: uris.atlas), in: dir, name: "shared/app.env")
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent(".env").path, withDestinationPath: "shared/app.env")
        let run = try SyncctlProcess.run(["enable", "--force", "--yes", "--timeout", "1"], in: dir)
        #expect(run.status == 0, "\(run.output)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir.appendingPathComponent(".env").path) == "shared/app.env")
        #expect(try RolloutFixture.read(dir, "shared/app.env")
            == RolloutFixture.trickyEnv(local: uris.local, atlas: uris.atlas, enabled: "\"true\""))
        #expect(try RolloutFixture.mode(dir, "shared/app.env") == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("shared").path) == ["app.env"])
    }

    @Test func failedPreflightRefusesWithExit2AndWritesNothing() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        let uris = RolloutFixture.closedURIs()
        let original = RolloutFixture.trickyEnv(local: uris.local, atlas: uris.atlas)
        try SyncctlProcess.writeEnv(original, in: dir)
        let run = try SyncctlProcess.run(["enable", "--yes", "--timeout", "1"], in: dir)
        #expect(run.status == 2)
        #expect(run.stderr.contains("refusing to enable"))
        #expect(run.stderr.contains("local.reachable"))
        #expect(run.stdout.contains("✗"))
        #expect(try RolloutFixture.read(dir) == original)
        #expect(RolloutFixture.journal(dir).isEmpty)

        let json = try SyncctlProcess.run(["enable", "--yes", "--json", "--timeout", "1"], in: dir)
        #expect(json.status == 2)
        let report = try RolloutFixture.json(json)
        #expect(report["refused"] as? Bool == true)
        #expect((report["failed"] as? [[String: Any]])?.contains { $0["id"] as? String == "local.reachable" } == true)
    }

    @Test func dryRunShowsTheDiffAndChangesNothing() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        let uris = RolloutFixture.closedURIs()
        let original = RolloutFixture.trickyEnv(local: uris.local, atlas: uris.atlas)
        try SyncctlProcess.writeEnv(original, in: dir)
        let forced = try SyncctlProcess.run(["enable", "--exclude", "bills", "--force", "--dry-run", "--timeout", "1"], in: dir)
        #expect(forced.status == 0, "\(forced.output)")
        #expect(forced.stdout.contains("-export SYNC_ENABLED=\"false\"   # quoted, exported\n+export SYNC_ENABLED=\"true\"   # quoted, exported\n"))
        #expect(forced.stdout.contains("+SYNC_EXCLUDED_COLLECTIONS=bills # the last one wins"))
        #expect(forced.stdout.contains("dry run: nothing written"))
        #expect(!forced.output.contains("s3cr"))
        // Without --force it still shows the change, and says a real run would refuse.
        let refused = try SyncctlProcess.run(["enable", "--dry-run", "--timeout", "1"], in: dir)
        #expect(refused.status == 2)
        #expect(refused.stdout.contains("+export SYNC_ENABLED=\"true\""))
        #expect(try RolloutFixture.read(dir) == original)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent(".syncctl/env-backups").path))
        #expect(RolloutFixture.journal(dir).isEmpty)
    }

    @Test func offATerminalWritingNeedsYes() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        let original = "SYNC_ENABLED=false\n"
        try SyncctlProcess.writeEnv(original, in: dir)
        for arguments in [["enable", "--force"], ["disable"]] {
            let run = try SyncctlProcess.run(arguments, in: dir)
            #expect(run.status == 64, "\(arguments): \(run.output)")
            #expect(run.stderr.contains("--yes"))
        }
        #expect(try RolloutFixture.read(dir) == original)
    }

    @Test func contradictoryOptionsAreACommandLineError() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        try SyncctlProcess.writeEnv("SYNC_ENABLED=false\n", in: dir)
        #expect(try SyncctlProcess.run(["enable", "--exclude", "a", "--include-all", "--yes"], in: dir).status == 64)
        #expect(try SyncctlProcess.run(["enable", "--exclude", "bad$name", "--yes"], in: dir).status == 64)
        #expect(try SyncctlProcess.run(["enable", "--no-env-file", "--yes"], in: dir).status == 64)
    }

    @Test func failingRestartCommandIsReportedWithItsOutput() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        let uris = RolloutFixture.closedURIs()
        try SyncctlProcess.writeEnv(RolloutFixture.trickyEnv(local: uris.local, atlas: uris.atlas), in: dir)
        let run = try SyncctlProcess.run(["enable", "--force", "--yes", "--timeout", "1", "--restart", "echo stopping app; echo 'no such process' >&2; exit 3"], in: dir)
        #expect(run.status == 1)
        #expect(run.stdout.contains("restart: failed (exit 3"))
        #expect(run.stdout.contains("| no such process"))
        #expect(run.stderr.contains("restart it by hand"))
        #expect(try RolloutFixture.read(dir).contains("SYNC_ENABLED=\"true\""))
        let entry = RolloutFixture.journal(dir).last
        #expect(entry?["result"] as? String == "problems")
        #expect(((entry?["details"] as? [String: Any])?["restart"] as? [String: Any])?["exitStatus"] as? Int == 3)
    }

    @Test func concurrentEnablesEndWithAConsistentFile() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        let uris = RolloutFixture.closedURIs()
        try SyncctlProcess.writeEnv(RolloutFixture.trickyEnv(local: uris.local, atlas: uris.atlas), in: dir)
        let names = ["alpha", "beta", "gamma", "delta"]
        let collected = Mutex<[String: SyncctlRun]>([:])
        DispatchQueue.concurrentPerform(iterations: names.count) { index in
            let run = try? SyncctlProcess.run(["enable", "--exclude", names[index], "--force", "--yes", "--timeout", "1"], in: dir)
            collected.withLock { $0[names[index]] = run }
        }
        let results = collected.withLock { $0 }
        #expect(results.count == names.count)
        for (name, run) in results {
            #expect(run.status == 0 || run.status == 75, "\(name): \(run.output)")
            if run.status == 75 { #expect(run.stderr.contains("run the command again") || run.stderr.contains("try again")) }
        }
        let winners = results.filter { $0.value.status == 0 }.map(\.key)
        #expect(!winners.isEmpty)
        let final = try RolloutFixture.read(dir)
        let candidates = names.map { RolloutFixture.trickyEnv(local: uris.local, atlas: uris.atlas, enabled: "\"true\"", excluded: $0) }
        #expect(candidates.contains(final), "inconsistent file:\n\(final)")
        #expect(RolloutFixture.journal(dir).count == winners.count)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }.isEmpty)
    }

    @Test(.enabled(if: TestServers.available, "needs the test servers"))
    func enablePassesPreflightAgainstHealthyServersAndReportsJSON() async throws {
        try await withScratchDatabase(.local, "enable") { local, database in
            try await local.insert([["_id": 1]], database: database, collection: "bills")
            let dir = try SyncctlProcess.scratchDirectory()
            try RolloutFixture.writeBackup(in: dir)
            let env = "SYNC_ENABLED=false\nMONGODB_LOCAL_URI=\(TestServers.uri(.local, database: database))\nMONGODB_ATLAS_URI=\(TestServers.uri(.atlas, database: database))\nSYNC_EXCLUDED_COLLECTIONS=\n"
            try SyncctlProcess.writeEnv(env, in: dir)
            let run = try SyncctlProcess.run(["enable", "--exclude", "bills", "--yes", "--json"], in: dir)
            #expect(run.status == 0, "\(run.output)")
            let report = try RolloutFixture.json(run)
            #expect(report["written"] as? Bool == true)
            #expect((report["preflight"] as? [String: Any])?["forced"] as? Bool == false)
            #expect(report["fullSyncCommand"] as? String == "syncctl full-sync")
            #expect(try RolloutFixture.read(dir) == env.replacingOccurrences(of: "SYNC_ENABLED=false", with: "SYNC_ENABLED=true")
                .replacingOccurrences(of: "SYNC_EXCLUDED_COLLECTIONS=\n", with: "SYNC_EXCLUDED_COLLECTIONS=bills\n"))
            #expect((RolloutFixture.journal(dir).first?["details"] as? [String: Any])?["forced"] == nil)
        }
    }
}
