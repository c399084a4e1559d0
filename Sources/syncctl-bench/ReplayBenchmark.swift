import Foundation
import SyncCore

/// `make bench BENCH=replay`: replay throughput (entries/s), with and without coalescing, as
/// a ratio to the raw single-document upsert rate into Atlas measured in the same run (what
/// a sync worker writing each change as it comes would achieve), and the appender's cost per
/// entry with and without fsync.
enum ReplayBenchmark {
    static let documents = 10_000
    static let rawUpserts = 2_000
    static let coalescing = 10

    static func run(local: String, atlas: String) async throws {
        let database = "replaybench_\(UInt32.random(in: 0...UInt32.max))"
        var options = PoolOptions()
        options.appName = "syncctl-bench"
        let localConnection = try MongoConnection(uri: local, redactedURI: "local", name: "local", options: options)
        let atlasConnection = try MongoConnection(uri: atlas, redactedURI: "atlas", name: "atlas", options: options)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("syncctl-replaybench-\(UUID().uuidString)").path
        defer {
            localConnection.close()
            atlasConnection.close()
            try? FileManager.default.removeItem(atPath: directory)
        }
        do {
            try await measure(localConnection, atlasConnection, database: database, directory: directory)
        } catch {
            try? await localConnection.dropDatabase(database)
            try? await atlasConnection.dropDatabase(database)
            throw error
        }
        try? await localConnection.dropDatabase(database)
        try? await atlasConnection.dropDatabase(database)
    }

    private static func measure(_ local: MongoConnection, _ atlas: MongoConnection, database: String, directory: String) async throws {
        let clock = ContinuousClock()
        let writer = BulkWriter(connection: local, database: database, collection: "c")
        for n in 0..<documents {
            try await writer.add(.insert(document(n)))
        }
        try await writer.flush()
        print("data: \(documents.formatted()) documents of ~200 bytes in local; queue in \(directory)")

        // The bound: one upsert command per document, as a naive worker would send them.
        var start = clock.now
        for n in 0..<rawUpserts {
            let document = document(n)
            let reply = try await atlas.runCommand(BSONDocument(pairs: [
                ("update", "raw"),
                ("updates", .array([.document(["q": .document(["_id": document["_id"]!]), "u": .document(document), "upsert": true])])),
            ]), database: database)
            precondition(reply["ok"]?.isTruthy == true)
        }
        let rawRate = Double(rawUpserts) / elapsed(since: start)
        print("raw single-document upserts into Atlas:  \(Int(rawRate).formatted()) docs/s (\(rawUpserts.formatted()) in \(String(format: "%.2f", Double(rawUpserts) / rawRate)) s)")

        func replay(_ name: String, entries: [QueueEntry], batchSize: Int) async throws {
            let files = QueueFiles(path: "\(directory)/\(name).jsonl", state: StateDirectory(path: "\(directory)/state"))
            try QueueAppender(path: files.path, durable: false).append(entries)
            try? await atlas.dropCollection("c", database: database)
            // No rotation: its log lines would only interleave with the figures.
            let worker = try ReplayWorker(
                files: files,
                applier: MirrorApplier(local: local, atlas: atlas, localDatabase: database, atlasDatabase: database),
                options: ReplayOptions(batchSize: batchSize, localDatabase: database, atlasDatabase: database, rotateBytes: .max))
            let begin = clock.now
            let summary = try await worker.drain()
            let rate = Double(summary.totals.applied) / elapsed(since: begin)
            let writes = summary.totals.upserts + summary.totals.deletes
            print("replay \(name), batches of \(batchSize):  \(Int(rate).formatted()) entries/s = \(String(format: "%.1f", rate / rawRate)) × raw  (\(summary.totals.applied.formatted()) entries, \(writes.formatted()) writes)")
        }
        let distinct = (0..<documents).map { QueueEntry(database: database, collection: "c", operation: .update, documentID: .int32(Int32($0))) }
        // Hot documents: each written `coalescing` times in quick succession (interleaved with
        // the other documents of its batch), as a burst of updates to one order would be.
        let repeated = (0..<documents).map { n in
            let block = n / 100
            let perBlock = 100 / coalescing
            return QueueEntry(database: database, collection: "c", operation: .update,
                              documentID: .int32(Int32(block * perBlock + n % perBlock)))
        }
        try await replay("without coalescing (one entry per document)", entries: distinct, batchSize: 100)
        try await replay("with coalescing (\(coalescing) entries per document)", entries: repeated, batchSize: 100)
        try await replay("without coalescing", entries: distinct, batchSize: 1_000)

        // The appender: what the application pays per write.
        for (durable, count) in [(false, 20_000), (true, 2_000)] {
            let appender = QueueAppender(path: "\(directory)/append-\(durable).jsonl", durable: durable)
            let entries = (0..<count).map { _ in QueueEntry(database: database, collection: "c", operation: .insert, documentID: .objectID(.generate())) }
            start = clock.now
            for entry in entries { try appender.append(entry) }
            let micros = elapsed(since: start) * 1e6 / Double(count)
            print("appender, \(durable ? "fsync per entry (SYNC_PERSIST_QUEUE=true)" : "page cache (SYNC_PERSIST_QUEUE=false)"):  \(String(format: "%.1f", micros)) µs/entry")
        }
        let lines = distinct.prefix(5_000).map { Array($0.jsonLine.utf8) }
        start = clock.now
        for line in lines { _ = try QueueEntry(line: line) }
        print("parsing a queue line:  \(String(format: "%.1f", elapsed(since: start) * 1e6 / Double(lines.count))) µs/entry")
    }

    static func elapsed(since start: ContinuousClock.Instant) -> Double {
        (ContinuousClock.now - start).seconds
    }

    static func document(_ n: Int) -> BSONDocument {
        ["_id": .int32(Int32(n)), "name": .string("customer \(n)"), "total": .double(Double(n) * 1.5),
         "items": .array([.string("a"), .string("b")]), "pad": .string(String(repeating: "p", count: 100))]
    }
}
