import Foundation
import SyncTestSupport
import Testing

import SyncCore

#if canImport(Glibc)
    import Glibc
#endif

/// `syncctl replay` run as a binary: exit codes, the dead-letter workflow, SIGTERM, and
/// kill -9 at several points followed by a rerun that loses nothing.
struct ReplayCommandTests {
    static func env(local: String, atlas: String, extra: String = "") -> String {
        "SYNC_ENABLED=true\nMONGODB_LOCAL_URI=\(local)\nMONGODB_ATLAS_URI=\(atlas)\nSYNC_MAX_RETRIES=1\n\(extra)"
    }

    static func queuePath(_ dir: URL) -> String { dir.appendingPathComponent(".syncctl/sync-queue.jsonl").path }

    static func appendEntries(_ entries: [QueueEntry], in dir: URL) throws {
        try QueueAppender(path: queuePath(dir), durable: false).append(entries)
    }

    static let node = ["/usr/bin/node", "/usr/local/bin/node"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Examples/queue-appender.js writes lines syncctl reads with the `_id`'s exact type.
    @Test(.enabled(if: node != nil, "needs node"))
    func theNodeExampleAppenderWritesTheDocumentedFormat() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        let queue = dir.appendingPathComponent("q.jsonl").path
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Examples/queue-appender.js").path
        let program = """
            const { appendSyncEntry } = require(\(String(reflecting: script)));
            const file = \(String(reflecting: queue));
            appendSyncEntry({ db: 'bomba', coll: 'orders', op: 'insert', _id: { toHexString: () => '507f1f77bcf86cd799439011' }, file });
            appendSyncEntry({ db: 'bomba', coll: 'orders', op: 'update', _id: 5, file });
            appendSyncEntry({ db: 'bomba', coll: 'orders', op: 'delete', _id: 2 ** 40, file, persist: false });
            appendSyncEntry({ db: 'bomba', coll: 'order "x"', op: 'replace', _id: 'naïve', file });
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.node!)
        process.arguments = ["-e", program]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let lines = try String(contentsOfFile: queue, encoding: .utf8).split(separator: "\n")
        let entries = try lines.map { try QueueEntry(line: Array($0.utf8)) }
        #expect(entries.map(\.documentID) == [
            .objectID(ObjectID(hex: "507f1f77bcf86cd799439011")!), .int32(5), .int64(1 << 40), .string("naïve"),
        ])
        #expect(entries.map(\.operation) == [.insert, .update, .delete, .replace])
        #expect(entries[3].collection == "order \"x\"")
        #expect(entries.allSatisfy { abs($0.time.timeIntervalSinceNow) < 60 })
    }

    @Test func combiningModesIsACommandLineError() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        let run = try SyncctlProcess.run(["replay", "--follow", "--dead-letters"], in: dir)
        #expect(run.status == 64)
    }

    @Test func disabledSyncReplaysNothingAndSaysSo() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        let port = FaultyEndpoints.closedPort()
        try SyncctlProcess.writeEnv(Self.env(local: "mongodb://127.0.0.1:\(port)/bomba", atlas: "mongodb://127.0.0.1:\(port)/bomba"), in: dir)
        try Self.appendEntries([QueueEntry(database: "bomba", collection: "c", operation: .insert, documentID: 1)], in: dir)
        let run = try SyncctlProcess.run(["replay", "--set", "SYNC_ENABLED=false"], in: dir)
        #expect(run.status == 0)
        #expect(run.stdout.contains("Sync disabled by configuration") && run.stdout.contains("1 entries stay queued"))
        let json = try SyncctlProcess.run(["replay", "--set", "SYNC_ENABLED=false", "--json"], in: dir)
        let document = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(document?["disabled"] as? Bool == true)
        #expect((document?["queue"] as? [String: Any])?["depth"] as? Int == 1)
    }

    @Test func unreachableServerExits69AndKeepsEveryEntry() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        let port = FaultyEndpoints.closedPort()
        try SyncctlProcess.writeEnv(Self.env(local: "mongodb://127.0.0.1:\(port)/bomba", atlas: "mongodb://127.0.0.1:\(port)/bomba"), in: dir)
        try Self.appendEntries((0..<3).map { QueueEntry(database: "bomba", collection: "c", operation: .insert, documentID: .int32(Int32($0))) }, in: dir)
        let run = try SyncctlProcess.run(["replay", "--timeout", "1"], in: dir)
        #expect(run.status == 69)
        #expect(run.stderr.contains("stay queued"))
        let after = try SyncctlProcess.run(["replay", "--set", "SYNC_ENABLED=false", "--json"], in: dir)
        let document = try JSONSerialization.jsonObject(with: Data(after.stdout.utf8)) as? [String: Any]
        #expect((document?["queue"] as? [String: Any])?["depth"] as? Int == 3)
    }

    @Test(.enabled(if: TestServers.available, "needs the test servers"))
    func deadLettersAreListedFixedAndPutBack() async throws {
        try await withScratchDatabase(.local, "deadletters") { local, database in
            let dir = try SyncctlProcess.scratchDirectory()
            try SyncctlProcess.writeEnv(Self.env(local: TestServers.uri(.local, database: database), atlas: TestServers.uri(.atlas, database: database)), in: dir)
            try await local.insert([["_id": 1], ["_id": 2]], database: database, collection: "c")
            try Self.appendEntries([QueueEntry(database: database, collection: "c", operation: .insert, documentID: 1)], in: dir)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: Self.queuePath(dir)))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data("{\"v\":1,\"op\":\"insert\",\"coll\":\"c\"}\n".utf8))
            try handle.close()

            let first = try SyncctlProcess.run(["replay"], in: dir)
            #expect(first.status == 2, "\(first.output)")
            #expect(first.stdout.contains("dead-lettered    1"))
            let listed = try SyncctlProcess.run(["replay", "--dead-letters", "--json"], in: dir)
            let document = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any])
            let letters = try #require(document["deadLetters"] as? [[String: Any]])
            #expect(letters.count == 1)
            #expect((letters[0]["reason"] as? String)?.contains("no \"id\"") == true)
            let human = try SyncctlProcess.run(["replay", "--dead-letters"], in: dir)
            #expect(human.stdout.contains("1 dead letter in") && human.stdout.contains("sync-queue.jsonl @"))

            // The operator fixes the line in the dead-letter file, then retries it.
            let deadPath = Self.queuePath(dir) + ".dead-letters.jsonl"
            let fixed = QueueEntry(database: database, collection: "c", operation: .insert, documentID: 2).jsonLine
            var record = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: deadPath))) as? [String: Any])
            record["line"] = fixed
            try (try JSONSerialization.data(withJSONObject: record) + Data("\n".utf8)).write(to: URL(fileURLWithPath: deadPath))
            let retried = try SyncctlProcess.run(["replay", "--retry-dead-letters"], in: dir)
            #expect(retried.status == 0 && retried.stdout.contains("Put 1 dead letter back"))
            let second = try SyncctlProcess.run(["replay", "--json"], in: dir)
            #expect(second.status == 0)
            let atlas = try TestServers.connection(.atlas)
            defer { atlas.close() }
            #expect(try await atlas.countDocuments(database: database, collection: "c") == 2)
            try await atlas.dropDatabase(database)
        }
    }

    @Test(.enabled(if: TestServers.available, "needs the test servers"))
    func followRunsUntilSIGTERMThenExitsZero() async throws {
        try await withScratchDatabase(.local, "follow") { local, database in
            let dir = try SyncctlProcess.scratchDirectory()
            try SyncctlProcess.writeEnv(Self.env(local: TestServers.uri(.local, database: database), atlas: TestServers.uri(.atlas, database: database),
                                                 extra: "SYNC_WORKER_INTERVAL=20\n"), in: dir)
            let worker = try BackgroundSyncctl(["replay", "--follow"], in: dir)
            let atlas = try TestServers.connection(.atlas)
            defer { atlas.close() }
            for n in 0..<20 {
                try await local.insert([["_id": .int32(Int32(n))]], database: database, collection: "c")
                try Self.appendEntries([QueueEntry(database: database, collection: "c", operation: .insert, documentID: .int32(Int32(n)))], in: dir)
            }
            let deadline = ContinuousClock.now + .seconds(20)
            while try await atlas.countDocuments(database: database, collection: "c") < 20, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try await atlas.countDocuments(database: database, collection: "c") == 20)
            let result = worker.terminate(signal: SIGTERM)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("sync worker started"))
            let metrics = try String(contentsOfFile: dir.appendingPathComponent(".syncctl/metrics/syncctl.prom").path, encoding: .utf8)
            #expect(metrics.contains("syncctl_queue_depth 0"))
            #expect(metrics.contains("syncctl_replay_entries_total{outcome=\"applied\"} 20"))
            try await atlas.dropDatabase(database)
        }
    }

    @Test(.enabled(if: TestServers.available, "needs the test servers"))
    func killedWithSIGKILLAtSeveralPointsAndRerunLosesNothing() async throws {
        try await withScratchDatabase(.local, "kill9") { local, database in
            let dir = try SyncctlProcess.scratchDirectory()
            try SyncctlProcess.writeEnv(Self.env(local: TestServers.uri(.local, database: database), atlas: TestServers.uri(.atlas, database: database),
                                                 extra: "SYNC_BATCH_SIZE=4\n"), in: dir)
            // Inserts, then updates and deletes of some of them: the final state is what counts.
            var entries: [QueueEntry] = []
            let writer = BulkWriter(connection: local, database: database, collection: "c")
            for n in 0..<1_200 {
                try await writer.add(.insert(["_id": .int32(Int32(n)), "v": 0]))
                entries.append(QueueEntry(database: database, collection: "c", operation: .insert, documentID: .int32(Int32(n))))
            }
            try await writer.flush()
            for n in stride(from: 0, to: 1_200, by: 3) {
                try await writer.add(.upsert(filter: ["_id": .int32(Int32(n))], document: ["_id": .int32(Int32(n)), "v": 1]))
                entries.append(QueueEntry(database: database, collection: "c", operation: .update, documentID: .int32(Int32(n))))
            }
            for n in stride(from: 1, to: 1_200, by: 7) {
                try await writer.add(.deleteOne(filter: ["_id": .int32(Int32(n))]))
                entries.append(QueueEntry(database: database, collection: "c", operation: .delete, documentID: .int32(Int32(n))))
            }
            try await writer.flush()
            try Self.appendEntries(entries, in: dir)

            // Killed five times, each time as soon as that run has committed a batch of its own
            // (its replay state file changed): progress, not a clock, picks the moment, so
            // every kill lands mid-run however loaded the machine is.
            let atlas = try TestServers.connection(.atlas)
            defer { atlas.close() }
            let statePath = Self.queuePath(dir) + ".state.json"
            var killedMidway = 0
            for _ in 0..<5 {
                let before = FileManager.default.contents(atPath: statePath)
                let run = try BackgroundSyncctl(["replay"], in: dir)
                if await run.send(SIGKILL, when: { FileManager.default.contents(atPath: statePath) != before }) {
                    killedMidway += 1
                }
                _ = run.terminate(signal: SIGKILL)
            }
            #expect(killedMidway == 5)
            let last = try SyncctlProcess.run(["replay", "--json"], in: dir)
            #expect(last.status == 0, "\(last.output)")
            let document = try JSONSerialization.jsonObject(with: Data(last.stdout.utf8)) as? [String: Any]
            let queue = document?["queue"] as? [String: Any]
            #expect(queue?["depth"] as? Int == 0)
            #expect(queue?["deadLetters"] as? Int == 0)

            func all(_ connection: MongoConnection) async throws -> [[UInt8]] {
                try await connection.withFind(database: database, collection: "c", options: .byID()) { stream in
                    var documents: [[UInt8]] = []
                    while let batch = try await stream.next() { documents += batch.map(\.bytes) }
                    return documents
                }
            }
            let expected = try await all(local)
            #expect(expected.count == 1_200 - 172)
            #expect(try await all(atlas) == expected)
            try await atlas.dropDatabase(database)
        }
    }
}
