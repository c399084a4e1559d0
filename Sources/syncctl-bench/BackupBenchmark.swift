import Foundation
import SyncCore

/// `make bench BENCH=backup`: backup and restore throughput (MB/s of BSON, docs/s) of one
/// collection of 200k documents of about 1 KB, with the peak RSS of each phase, printed next
/// to what bounds them, measured in the same run with the same client library: a raw scan
/// of the collection (what a dump cannot beat) and raw bulk inserts of the same documents
/// (what a restore cannot beat). A smaller collection's phases show whether memory stays flat.
enum BackupBenchmark {
    static let documents = 200_000
    static let smallDocuments = 50_000

    static func run(local: String, atlas: String) async throws {
        let tag = UInt32.random(in: 0...UInt32.max)
        let databases = ["backupbench_\(tag)", "backupbench_\(tag)_small"]
        var options = PoolOptions()
        options.appName = "syncctl-bench"
        let connection = try MongoConnection(uri: local, redactedURI: "local", name: "local", options: options)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("syncctl-backupbench-\(tag)").path
        defer {
            connection.close()
            try? FileManager.default.removeItem(atPath: directory)
        }
        func cleanup() async {
            for database in databases { for suffix in ["", "_restored"] { try? await connection.dropDatabase(database + suffix) } }
        }
        do {
            // The small one first: memory the allocator keeps from a phase raises the next
            // phase's starting point, so the large run can only look worse, never better.
            let small = try await measure(connection, database: databases[1], documents: smallDocuments, directory: "\(directory)/small")
            let big = try await measure(connection, database: databases[0], documents: documents, directory: "\(directory)/big")
            report(big, small)
        } catch {
            await cleanup()
            throw error
        }
        await cleanup()
    }

    struct Phase {
        var seconds = 0.0
        var documents = 0
        var bytes: Int64 = 0
        var peakRSSKiB = 0

        var docsPerSecond: Double { Double(documents) / seconds }
        var megabytesPerSecond: Double { Double(bytes) / 1e6 / seconds }
    }

    struct Figures {
        var documents = 0
        var bytes: Int64 = 0
        var insert = Phase()
        var scan = Phase()
        var backup = Phase()
        var backupGzip = Phase()
        var gzipBytesOnDisk: Int64 = 0
        var check = Phase()
        var restore = Phase()
        /// The restore's own writes: collections, indexes and bulk inserts, without the check.
        var restoreWrites = Phase()
    }

    private static func measure(_ connection: MongoConnection, database: String, documents count: Int, directory: String) async throws
        -> Figures
    {
        var figures = Figures()
        figures.documents = count
        let clock = ContinuousClock()

        // Raw bulk inserts: only the writer's calls are timed, not building the documents.
        figures.insert = try await phase(documents: count) {
            let writer = BulkWriter(connection: connection, database: database, collection: "orders")
            var timed = Duration.zero
            var bytes: Int64 = 0
            for n in 0..<count {
                let document = order(n)
                bytes += Int64(document.byteCount)
                let start = clock.now
                try await writer.add(.insert(document))
                timed += clock.now - start
            }
            let start = clock.now
            try await writer.flush()
            timed += clock.now - start
            return (timed, bytes)
        }
        figures.bytes = figures.insert.bytes

        // Raw scan: the same find a backup issues (natural order), documents only counted.
        figures.scan = try await phase(documents: count) {
            let start = clock.now
            let bytes = try await connection.withFind(database: database, collection: "orders") { stream in
                var bytes: Int64 = 0
                while let batch = try await stream.next() { bytes += batch.reduce(0) { $0 + Int64($1.byteCount) } }
                return bytes
            }
            return (clock.now - start, bytes)
        }

        func backup(_ gzip: Bool) async throws -> (Duration, Int64) {
            let start = clock.now
            let manifest = try await BackupWriter.write(
                BackupRequest(database: database, directory: "\(directory)/\(gzip ? "gzip" : "plain")", gzip: gzip, toolVersion: "bench",
                              source: "local"),
                connection: connection)
            guard manifest.documents == Int64(count) else { throw BackupError(.unexpected, "backup wrote \(manifest.documents) documents") }
            if gzip { figures.gzipBytesOnDisk = manifest.collections.reduce(0) { $0 + $1.data.bytes } }
            return (clock.now - start, manifest.collections.reduce(0) { $0 + $1.dataBytes })
        }
        figures.backup = try await phase(documents: count) { try await backup(false) }
        figures.backupGzip = try await phase(documents: count) { try await backup(true) }

        // A restore = the check of the whole backup + collections, indexes and bulk inserts.
        let input = try DumpInput.open("\(directory)/plain")
        figures.check = try await phase(documents: count) {
            let start = clock.now
            let report = try await input.check()
            return (clock.now - start, report.collections.reduce(0) { $0 + $1.dataBytes })
        }
        var writes = Duration.zero
        figures.restore = try await phase(documents: count) {
            let start = clock.now
            _ = try await input.check()
            let written = clock.now
            let plan = try await Restorer.plan(input: input, connection: connection, targetDatabase: database + "_restored")
            let result = try await Restorer.run(plan, connection: connection, drop: false)
            guard result.documents == Int64(count) else { throw BackupError(.unexpected, "restore inserted \(result.documents) documents") }
            writes = clock.now - written
            return (clock.now - start, result.dataBytes)
        }
        figures.restoreWrites = figures.restore
        figures.restoreWrites.seconds = seconds(writes)
        return figures
    }

    /// An order as the application stores it, about 1 KB: ObjectIds, a line-item array, a
    /// status, dates, amounts and free text.
    static func order(_ n: Int) -> BSONDocument {
        var id = [UInt8](repeating: 0x6a, count: 12)
        withUnsafeBytes(of: UInt64(n).bigEndian) { id.replaceSubrange(4..<12, with: $0) }
        let items: [BSONValue] = (0..<4).map { item in
            .document(["menuItem": .objectID(ObjectID(bytes: [0x6a, 0, 0, 0, 0, 0, 0, 0, 0, 0, UInt8(item), UInt8(n % 256)])!),
                       "qty": .int32(Int32(1 + (n + item) % 4)), "priceCents": .int32(Int32(500 + item * 150)),
                       "notes": .string(item % 2 == 0 ? "no onions" : "extra sauce")])
        }
        return BSONDocument(pairs: [
            ("_id", .objectID(ObjectID(bytes: id)!)),
            ("user", .objectID(ObjectID(bytes: [0x6a, 0, 0, 0, 0, 0, 0, 0, 0, 0, UInt8(n % 251), UInt8(n % 13)])!)),
            ("table", .int32(Int32(n % 40))),
            ("items", .array(items)),
            ("status", .string(["open", "paid", "cancelled"][n % 3])),
            ("createdAt", .datetime(1_767_225_600_000 + Int64(n) * 45_000)),
            ("totalCents", .int64(Int64(2_000 + n % 9_000))),
            ("comment", .string(String(repeating: "Table by the window, birthday dessert at nine. ", count: 12))),
        ])
    }

    /// Runs one phase with the peak RSS reset before it (Linux: /proc/self/clear_refs).
    private static func phase(documents: Int, _ body: () async throws -> (Duration, Int64)) async throws -> Phase {
        PeakMemory.reset()
        let (duration, bytes) = try await body()
        return Phase(seconds: seconds(duration), documents: documents, bytes: bytes, peakRSSKiB: PeakMemory.kibibytes())
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private static func report(_ big: Figures, _ small: Figures) {
        func rate(_ phase: Phase) -> String {
            "\(String(format: "%.1f", phase.megabytesPerSecond)) MB/s, \(Int(phase.docsPerSecond).formatted()) docs/s (\(String(format: "%.1f", phase.seconds)) s)"
        }
        func rss(_ phase: Phase, _ smaller: Phase) -> String {
            "\(phase.peakRSSKiB / 1024) MiB (\(smaller.peakRSSKiB / 1024) MiB at \(small.documents.formatted()))"
        }
        func ratio(_ a: Phase, _ b: Phase) -> String { String(format: "%.2f ×", a.docsPerSecond / b.docsPerSecond) }
        print("data: one collection of \(big.documents.formatted()) documents of ~\(big.bytes / Int64(big.documents)) bytes (\(String(format: "%.1f", Double(big.bytes) / 1e6)) MB of BSON), local server; \(small.documents.formatted()) for the memory comparison")
        let rows: [[String]] = [
            ["measure", "rate", "peak RSS", "vs (same run)", "ratio"],
            ["raw scan (find, natural order)", rate(big.scan), rss(big.scan, small.scan), "", ""],
            ["raw bulk insert", rate(big.insert), rss(big.insert, small.insert), "", ""],
            ["backup", rate(big.backup), rss(big.backup, small.backup), "raw scan", ratio(big.backup, big.scan)],
            ["backup --gzip (\(String(format: "%.1f", Double(big.gzipBytesOnDisk) / 1e6)) MB on disk)", rate(big.backupGzip),
             rss(big.backupGzip, small.backupGzip), "raw scan", ratio(big.backupGzip, big.scan)],
            ["restore (check + create + insert)", rate(big.restore), rss(big.restore, small.restore), "raw bulk insert",
             ratio(big.restore, big.insert)],
            ["  of which the check of the backup", rate(big.check), rss(big.check, small.check), "", ""],
            ["  of which create + insert", rate(big.restoreWrites), "", "raw bulk insert", ratio(big.restoreWrites, big.insert)],
        ]
        for (index, row) in rows.enumerated() {
            print("| " + row.joined(separator: " | ") + " |")
            if index == 0 { print("|" + String(repeating: " --- |", count: row.count)) }
        }
    }
}

/// The process's peak resident set size, resettable so each phase has its own (Linux keeps
/// it as VmHWM; writing 5 to /proc/self/clear_refs resets it to the current RSS).
enum PeakMemory {
    static func reset() {
        if let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") {
            handle.write(Data("5".utf8))
            try? handle.close()
        }
    }

    static func kibibytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first.map(String.init) ?? "") ?? 0
    }
}
