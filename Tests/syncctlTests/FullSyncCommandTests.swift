import Foundation
import SyncCore
import SyncTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `syncctl full-sync` and `verify-consistency` run as binaries against the test servers:
/// exit codes, JSON, and a run killed with -9 at several points that resumes from its
/// checkpoint instead of starting over.
@Suite(.enabled(if: TestServers.available, "needs SYNCCTL_TEST_LOCAL_URI and SYNCCTL_TEST_ATLAS_URI"))
struct FullSyncCommandTests {
    /// A scratch directory with a .env for a fresh database on both servers.
    struct Scene {
        let dir: URL
        let database: String
        var checkpoint: String { dir.appendingPathComponent(".syncctl/checkpoints/full-sync.json").path }

        init(_ test: String, atlasQuery: String = "", extra: String = "") throws {
            dir = try SyncctlProcess.scratchDirectory()
            database = TestServers.uniqueDatabase(test)
            try SyncctlProcess.writeEnv("""
                MONGODB_LOCAL_URI=\(TestServers.uri(.local, database: database))
                MONGODB_ATLAS_URI=\(TestServers.uri(.atlas, database: database))\(atlasQuery)
                \(extra)
                """, in: dir)
        }

        func seed(_ collections: [String: Int], padding: Int = 200) async throws {
            let local = try TestServers.connection(.local)
            defer { local.close() }
            for (name, count) in collections {
                let writer = BulkWriter(connection: local, database: database, collection: name, limits: BulkLimits(maxCount: 2_000))
                for index in 0..<count {
                    try await writer.add(.insert(["_id": .int32(Int32(index)), "pad": .string(String(repeating: "d", count: padding))]))
                }
                try await writer.flush()
            }
        }

        /// Runs `body` with a fresh scene, and drops its databases and directory afterwards,
        /// whether `body` passed or threw.
        static func with(_ test: String, atlasQuery: String = "", extra: String = "", _ body: (Scene) async throws -> Void)
            async throws
        {
            let scene = try Scene(test, atlasQuery: atlasQuery, extra: extra)
            do {
                try await body(scene)
            } catch {
                await scene.drop()
                throw error
            }
            await scene.drop()
        }

        func drop() async {
            for which in [TestServers.Which.local, .atlas] {
                if let connection = try? TestServers.connection(which) {
                    try? await connection.dropDatabase(database)
                    connection.close()
                }
            }
            try? FileManager.default.removeItem(at: dir)
        }

        /// Starts syncctl in the scene's directory without waiting.
        func start(_ arguments: [String]) throws -> BackgroundSyncctl {
            try BackgroundSyncctl(arguments, in: dir)
        }

        /// Sends `signal` to `run` as soon as `condition` holds for the checkpoint file's text;
        /// false if the run ended first.
        func send(_ signal: Int32, to run: BackgroundSyncctl, when condition: @escaping @Sendable (String) -> Bool) async -> Bool {
            let path = checkpoint
            return await run.send(signal) {
                (try? String(contentsOfFile: path, encoding: .utf8)).map(condition) ?? false
            }
        }
    }

    private func json(_ run: SyncctlRun) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "stdout: \(run.stdout) stderr: \(run.stderr)")
    }

    @Test func killedWithSignal9AtSeveralPointsTheRerunResumesAndEndsConsistent() async throws {
        try await Scene.with("cmd-kill9") { scene in
            try await scene.seed(["alpha": 25_000, "beta": 25_000])

            // 1: as soon as the run has planned its work; 2 and 3: as soon as that run has
            // committed a batch of its own (its checkpoint changed). Progress, not a clock, picks
            // the moments, so every kill lands mid-run however loaded the machine is.
            let planned: @Sendable (String) -> Bool = { $0.contains("\"partitions\"") }
            var killed = 0
            for index in 0..<3 {
                let before = try? String(contentsOfFile: scene.checkpoint, encoding: .utf8)
                // A commit records a partition's resume point, or marks a whole partition done.
                let committed: @Sendable (String) -> Bool = {
                    $0 != before && ($0.contains("\"resumeFrom\"") || $0.contains("\"done\" : true"))
                }
                let run = try scene.start(["full-sync", "--workers", "2"])
                if await scene.send(SIGKILL, to: run, when: index == 0 ? planned : committed) {
                    killed += 1
                }
                _ = run.terminate()
                #expect(FileManager.default.fileExists(atPath: scene.checkpoint), "the checkpoint survives kill -9")
            }
            #expect(killed == 3, "every kill point was reached before the run finished")

            let final = try SyncctlProcess.run(["full-sync", "--json"], in: scene.dir)
            #expect(final.status == 0, "\(final.stderr)")
            let report = try json(final)
            #expect(report["resumed"] is [String: Any], "the rerun continued from the checkpoint")
            let scanned = try #require((report["totals"] as? [String: Any])?["scanned"] as? Int)
            #expect(scanned < 50_000, "the rerun did not start over")
            #expect(!FileManager.default.fileExists(atPath: scene.checkpoint))

            let verify = try SyncctlProcess.run(["verify-consistency"], in: scene.dir)
            #expect(verify.status == 0, "\(verify.stdout)")
            #expect(verify.stdout.contains("Consistent"))
        }
    }

    @Test func ctrlCStopsWithExit130AndKeepsTheCheckpoint() async throws {
        try await Scene.with("cmd-sigint") { scene in
            try await scene.seed(["c": 30_000])
            let run = try scene.start(["full-sync", "--workers", "1"])
            let reached = await scene.send(SIGINT, to: run, when: { $0.contains("\"resumeFrom\"") })
            try #require(reached, "the run finished before it could be interrupted")
            let interrupted = run.terminate()
            #expect(interrupted.status == 130, "\(interrupted.stderr)")
            #expect(FileManager.default.fileExists(atPath: scene.checkpoint))
            let rerun = try SyncctlProcess.run(["full-sync", "--json"], in: scene.dir)
            #expect(rerun.status == 0)
            #expect(try json(rerun)["resumed"] is [String: Any])
        }
    }

    @Test func secondRunWhileOneHoldsTheLockExits75() async throws {
        try await Scene.with("cmd-lock") { scene in
            let lock = try RunLock.acquire("full-sync", in: StateDirectory(path: scene.dir.appendingPathComponent(".syncctl").path))
            defer { lock.release() }
            let run = try SyncctlProcess.run(["full-sync"], in: scene.dir)
            #expect(run.status == 75)
            #expect(run.stderr.contains("another syncctl full-sync is running"))
        }
    }

    @Test func atlasThatStaysUnreachableExits69AfterTheRetries() async throws {
        let dir = try SyncctlProcess.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try SyncctlProcess.writeEnv("""
            MONGODB_LOCAL_URI=\(TestServers.uri(.local, database: "syncctl_unreachable"))
            MONGODB_ATLAS_URI=mongodb://user:hunter2@127.0.0.1:\(FaultyEndpoints.closedPort())/bomba
            SYNC_MAX_RETRIES=1
            """, in: dir)
        let run = try SyncctlProcess.run(["full-sync", "--timeout", "1", "--json"], in: dir)
        #expect(run.status == 69)
        #expect(!run.output.contains("hunter2"))
        let error = try json(run)["error"] as? [String: Any]
        #expect(error?["kind"] as? String == "unreachable")
        let prom = try String(contentsOf: dir.appendingPathComponent(".syncctl/metrics/syncctl.prom"), encoding: .utf8)
        #expect(prom.contains("syncctl_job_exit_code{job=\"full-sync\"} 69"))
    }

    @Test(.exclusiveFailPoints) func atlasClosingTheConnectionMidSyncIsRetried() async throws {
        let appName = "cmd-close-\(UInt32.random(in: 0...UInt32.max))"
        try await Scene.with("cmd-close", atlasQuery: "?appName=\(appName)") { scene in
            try await scene.seed(["c": 4_000])
            let admin = try TestServers.connection(.atlas)
            defer { admin.close() }
            _ = try await admin.runCommand([
                "configureFailPoint": "failCommand", "mode": .document(["times": 2]),
                "data": .document(["failCommands": .array(["insert", "update"]), "closeConnection": true, "appName": .string(appName)]),
            ], database: "admin")
            let run = try SyncctlProcess.run(["full-sync"], in: scene.dir)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stderr.contains("retrying"))
            let verify = try SyncctlProcess.run(["verify-consistency", "--json"], in: scene.dir)
            #expect(verify.status == 0)
        }
    }

    @Test func jsonReportsEveryCollectionAndTheJournalAndMetricsRecordTheRun() async throws {
        try await Scene.with("cmd-json", extra: "SYNC_EXCLUDED_COLLECTIONS=sessions") { scene in
            try await scene.seed(["orders": 120, "sessions": 5, "with space": 3])
            let dry = try SyncctlProcess.run(["full-sync", "--dry-run", "--json"], in: scene.dir)
            #expect(dry.status == 0)
            #expect((try json(dry)["totals"] as? [String: Any])?["inserted"] as? Int == 123)
            #expect(!FileManager.default.fileExists(atPath: scene.dir.appendingPathComponent(".syncctl/journal.jsonl").path))

            let run = try SyncctlProcess.run(["full-sync", "--json"], in: scene.dir)
            #expect(run.status == 0)
            let report = try json(run)
            let collections = try #require(report["collections"] as? [[String: Any]])
            #expect(collections.map { $0["name"] as? String } == ["orders", "sessions", "with space"])
            #expect(collections.map { $0["status"] as? String } == ["synced", "excluded", "synced"])
            for key in ["scanned", "equal", "inserted", "replaced", "deleted", "seconds"] {
                #expect(collections[0][key] != nil, "missing \(key)")
            }
            #expect(collections[0]["inserted"] as? Int == 120)
            let journal = try String(contentsOf: scene.dir.appendingPathComponent(".syncctl/journal.jsonl"), encoding: .utf8)
            #expect(journal.contains("\"command\":\"full-sync\""))
            #expect(journal.contains("\"written\":123"))
            let prom = try String(contentsOf: scene.dir.appendingPathComponent(".syncctl/metrics/syncctl.prom"), encoding: .utf8)
            #expect(prom.contains("syncctl_job_documents_written{job=\"full-sync\"} 123"))
            #expect(prom.contains("syncctl_job_last_success_timestamp_seconds{job=\"full-sync\"}"))

            let human = try SyncctlProcess.run(["full-sync", "--collections", "orders"], in: scene.dir)
            #expect(human.status == 0)
            #expect(human.stdout.contains("orders"))
            #expect(human.stdout.contains("Atlas equals local for 1 collection (0 documents written)"))
        }
    }

    @Test func badCommandLinesAndUnknownCollectionsHaveTheirExitCodes() async throws {
        try await Scene.with("cmd-bad") { scene in
            try await scene.seed(["orders": 1])
            #expect(try SyncctlProcess.run(["full-sync", "--workers", "0"], in: scene.dir).status == 64)
            let unknown = try SyncctlProcess.run(["full-sync", "--collections", "ordres"], in: scene.dir)
            #expect(unknown.status == 78)
            #expect(unknown.stderr.contains("no collection 'ordres'"))
        }
    }
}
