import Foundation
import SyncCore

#if canImport(Glibc)
    import Glibc
#endif

/// `make bench BENCH=backup`: backup and restore throughput (MB/s of BSON, docs/s) of one
/// collection of 200k documents of about 1 KB, with the peak RSS of each, printed next to
/// what bounds them, measured in the same run with the same client library: a raw scan of
/// the collection (what a dump cannot beat) and raw bulk inserts of the same documents (what
/// a restore cannot beat). The same phases on 50k documents show whether memory stays flat.
///
/// Each phase runs in a child process (this binary again, told what to do by
/// `SYNCCTL_BENCH_BACKUP_CHILD`), so its peak RSS (`getrusage`) is its own: memory the
/// allocator keeps after one phase would otherwise count against the next.
enum BackupBenchmark {
    static let documents = 200_000
    static let smallDocuments = 50_000

    enum Job: String, CaseIterable {
        case insert, scan, backup, backupGzip = "backup-gzip", check, restore
    }

    struct Phase {
        var seconds = 0.0
        var documents = 0
        var bytes: Int64 = 0
        /// For a restore: the seconds spent creating and inserting, without the check.
        var writeSeconds = 0.0
        var peakRSSKiB = 0
        /// For a gzip backup: the compressed size.
        var bytesOnDisk: Int64 = 0

        var docsPerSecond: Double { Double(documents) / seconds }
        var megabytesPerSecond: Double { Double(bytes) / 1e6 / seconds }
    }

    static func run(local: String, atlas: String) async throws {
        let environment = ProcessInfo.processInfo.environment
        if let job = environment["SYNCCTL_BENCH_BACKUP_CHILD"].flatMap(Job.init(rawValue:)) {
            let phase = try await child(job, uri: local, database: environment["SYNCCTL_BENCH_DATABASE"] ?? "backupbench",
                                        directory: environment["SYNCCTL_BENCH_DIRECTORY"] ?? NSTemporaryDirectory(),
                                        count: Int(environment["SYNCCTL_BENCH_DOCUMENTS"] ?? "") ?? documents)
            print("RESULT \(phase.seconds) \(phase.bytes) \(phase.writeSeconds) \(phase.bytesOnDisk) \(BenchSupport.peakResidentKiB())")
            exit(0)
        }
        let tag = UInt32.random(in: 0...UInt32.max)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("syncctl-backupbench-\(tag)").path
        let databases = ["backupbench_\(tag)", "backupbench_\(tag)_small"]
        let connection = try connect(local)
        defer {
            connection.close()
            try? FileManager.default.removeItem(atPath: directory)
        }
        func cleanup() async {
            for database in databases { for suffix in ["", "_restored"] { try? await connection.dropDatabase(database + suffix) } }
        }
        do {
            var big: [Job: Phase] = [:]
            var small: [Job: Phase] = [:]
            for job in Job.allCases {
                big[job] = try runChild(job, database: databases[0], directory: "\(directory)/big", count: documents)
                small[job] = try runChild(job, database: databases[1], directory: "\(directory)/small", count: smallDocuments)
            }
            report(big, small)
        } catch {
            await cleanup()
            throw error
        }
        await cleanup()
    }

    // MARK: The phases, in a child process each

    private static func runChild(_ job: Job, database: String, directory: String, count: Int) throws -> Phase {
        let fields = try BenchSupport.runChild("backup", environment: [
            "SYNCCTL_BENCH_BACKUP_CHILD": job.rawValue, "SYNCCTL_BENCH_DATABASE": database,
            "SYNCCTL_BENCH_DIRECTORY": directory, "SYNCCTL_BENCH_DOCUMENTS": String(count),
        ], what: job.rawValue)
        return Phase(seconds: Double(fields[0]) ?? 0, documents: count, bytes: Int64(fields[1]) ?? 0,
                     writeSeconds: Double(fields[2]) ?? 0, peakRSSKiB: Int(fields[4]) ?? 0, bytesOnDisk: Int64(fields[3]) ?? 0)
    }

    private static func child(_ job: Job, uri: String, database: String, directory: String, count: Int) async throws -> Phase {
        let connection = try connect(uri)
        defer { connection.close() }
        let clock = ContinuousClock()
        var phase = Phase(documents: count)
        switch job {
        case .insert:
            // Raw bulk inserts: only the writer's calls are timed, not building the documents.
            let writer = BulkWriter(connection: connection, database: database, collection: "orders")
            var timed = Duration.zero
            for n in 0..<count {
                let document = order(n)
                phase.bytes += Int64(document.byteCount)
                let start = clock.now
                try await writer.add(.insert(document))
                timed += clock.now - start
            }
            let start = clock.now
            try await writer.flush()
            phase.seconds = (timed + (clock.now - start)).seconds
        case .scan:
            // The same find a backup issues (natural order); documents are only counted.
            let start = clock.now
            phase.bytes = try await connection.withFind(database: database, collection: "orders") { stream in
                var bytes: Int64 = 0
                while let batch = try await stream.next() { bytes += batch.reduce(0) { $0 + Int64($1.byteCount) } }
                return bytes
            }
            phase.seconds = (clock.now - start).seconds
        case .backup, .backupGzip:
            let gzip = job == .backupGzip
            let start = clock.now
            let manifest = try await BackupWriter.write(
                BackupRequest(database: database, directory: "\(directory)/\(job.rawValue)", gzip: gzip, toolVersion: "bench", source: "local"),
                connection: connection)
            phase.seconds = (clock.now - start).seconds
            guard manifest.documents == Int64(count) else { throw BackupError(.unexpected, "backup wrote \(manifest.documents) documents") }
            phase.bytes = manifest.collections.reduce(0) { $0 + $1.dataBytes }
            phase.bytesOnDisk = manifest.collections.reduce(0) { $0 + $1.data.bytes }
        case .check:
            let start = clock.now
            let report = try await DumpInput.open("\(directory)/backup").check()
            phase.seconds = (clock.now - start).seconds
            phase.bytes = report.collections.reduce(0) { $0 + $1.dataBytes }
        case .restore:
            // What `syncctl restore` does: check the whole backup, then create and insert.
            let start = clock.now
            let input = try DumpInput.open("\(directory)/backup")
            _ = try await input.check()
            let written = clock.now
            let plan = try await Restorer.plan(input: input, connection: connection, targetDatabase: database + "_restored")
            let result = try await Restorer.run(plan, connection: connection, drop: false)
            phase.seconds = (clock.now - start).seconds
            phase.writeSeconds = (clock.now - written).seconds
            guard result.documents == Int64(count) else { throw BackupError(.unexpected, "restore inserted \(result.documents) documents") }
            phase.bytes = result.dataBytes
        }
        return phase
    }

    // MARK: Report

    private static func report(_ big: [Job: Phase], _ small: [Job: Phase]) {
        let insert = big[.insert]!, scan = big[.scan]!, restore = big[.restore]!
        func rate(_ phase: Phase) -> String {
            "\(String(format: "%.1f", phase.megabytesPerSecond)) MB/s, \(Int(phase.docsPerSecond).formatted()) docs/s (\(String(format: "%.1f", phase.seconds)) s)"
        }
        func rss(_ job: Job) -> String {
            "\((big[job]?.peakRSSKiB ?? 0) / 1024) MiB (\((small[job]?.peakRSSKiB ?? 0) / 1024) MiB at \(smallDocuments.formatted()))"
        }
        func ratio(_ a: Phase, _ b: Phase) -> String { String(format: "%.2f ×", a.docsPerSecond / b.docsPerSecond) }
        var writes = restore
        writes.seconds = restore.writeSeconds
        print("data: one collection of \(documents.formatted()) orders of ~\(insert.bytes / Int64(documents)) bytes (\(String(format: "%.1f", Double(insert.bytes) / 1e6)) MB of BSON) on the local server; each phase a process of its own")
        let rows: [[String]] = [
            ["measure", "rate", "peak RSS", "vs (same run)", "ratio"],
            ["raw scan (find, natural order)", rate(scan), rss(.scan), "", ""],
            ["raw bulk insert", rate(insert), rss(.insert), "", ""],
            ["backup", rate(big[.backup]!), rss(.backup), "raw scan", ratio(big[.backup]!, scan)],
            ["backup --gzip (\(String(format: "%.1f", Double(big[.backupGzip]!.bytesOnDisk) / 1e6)) MB on disk)", rate(big[.backupGzip]!),
             rss(.backupGzip), "raw scan", ratio(big[.backupGzip]!, scan)],
            ["backup verify (offline check)", rate(big[.check]!), rss(.check), "", ""],
            ["restore (check, then create + insert)", rate(restore), rss(.restore), "raw bulk insert", ratio(restore, insert)],
            ["  its create + insert alone", rate(writes), "", "raw bulk insert", ratio(writes, insert)],
        ]
        BenchSupport.printTable(rows)
    }

    // MARK: Helpers

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

    private static func connect(_ uri: String) throws -> MongoConnection {
        var options = PoolOptions()
        options.appName = "syncctl-bench"
        return try MongoConnection(uri: uri, redactedURI: "local", name: "local", options: options)
    }

}
