import Foundation
import SyncCore

#if canImport(Glibc)
    import Glibc
#endif

/// `make bench BENCH=sync`: full-sync and deep verify against the two servers, each next to
/// the raw rate that bounds it, measured in the same run with the same client library:
///
/// - full-sync into an empty Atlas vs `min(raw scan of local, raw bulk insert into Atlas)`;
/// - delta full-sync with 1 % of the documents changed, as a fraction of the full copy;
/// - deep verify vs reading both sides at once;
/// - the sync's own CPU seconds per 100k documents and its peak RSS at 50k vs 200k documents.
///
/// Each measured run is a child process (this binary again, told what to do by
/// `SYNCCTL_BENCH_SYNC_CHILD`), so its CPU time and peak RSS (`getrusage`) are its own.
enum SyncBenchmark {
    static let collections = 4
    static let documents = 200_000
    static let smallDocuments = 50_000
    static let workers = 4

    static func run(local: String, atlas: String) async throws {
        if let job = ProcessInfo.processInfo.environment["SYNCCTL_BENCH_SYNC_CHILD"] {
            try await child(job, local: local, atlas: atlas)
            exit(0)
        }
        let tag = UInt32.random(in: 0...UInt32.max)
        let big = "syncbench_\(tag)"
        let small = "syncbench_small_\(tag)"
        let localConnection = try MongoConnection(uri: local, redactedURI: "local", name: "local", options: pool())
        let atlasConnection = try MongoConnection(uri: atlas, redactedURI: "atlas", name: "atlas", options: pool())
        defer {
            localConnection.close()
            atlasConnection.close()
        }
        func cleanup() async {
            for database in [big, small, big + "_atlas", small + "_atlas", big + "_insert"] {
                try? await localConnection.dropDatabase(database)
                try? await atlasConnection.dropDatabase(database)
            }
        }
        do {
            try await measure(local: local, atlas: atlas, localConnection: localConnection, atlasConnection: atlasConnection,
                              big: big, small: small)
        } catch {
            await cleanup()
            throw error
        }
        await cleanup()
    }

    /// Each measure is taken this many times, interleaved with its bound, and the median
    /// reported: two Python servers and syncctl share the machine's cores, so one round can
    /// lose a core to anything else that runs.
    static let rounds = 5

    private static func measure(local: String, atlas: String, localConnection: MongoConnection, atlasConnection: MongoConnection,
                                big: String, small: String) async throws {
        let names = (0..<collections).map { "c\($0)" }
        let seedStart = ContinuousClock.now
        try await seed(localConnection, database: big, names: names, total: documents)
        try await seed(localConnection, database: small, names: names, total: smallDocuments)
        print("data: \(format(documents)) documents of ~1 KB in \(collections) collections (and \(format(smallDocuments)) for the RSS comparison), seeded in \(String(format: "%.1f", (ContinuousClock.now - seedStart).seconds)) s; \(workers) workers; median of \(rounds) rounds")

        var rows: [Round] = []
        for round in 0..<rounds {
            var r = Round()
            // The bounds, with the same client library and the same parallelism.
            r.scan = try await timed { try await scanAll(localConnection, database: big, names: names) }
            try? await atlasConnection.dropDatabase(big + "_insert")
            r.insert = try await insertAll(from: localConnection, to: atlasConnection, database: big, into: big + "_insert", names: names)
            // full-sync into an empty Atlas.
            try await atlasConnection.dropDatabase(big + "_atlas")
            r.full = try runChild("full-sync", local: local, atlas: atlas, database: big)
            // The same with 1 % changed locally.
            try await changeOnePercent(localConnection, database: big, names: names, round: round)
            r.delta = try runChild("full-sync", local: local, atlas: atlas, database: big)
            // Deep verify vs reading both sides at once.
            r.both = try await timed {
                async let l: Void = scanAll(localConnection, database: big, names: names)
                async let a: Void = scanAll(atlasConnection, database: big + "_atlas", names: names)
                _ = try await (l, a)
            }
            r.verify = try runChild("verify", local: local, atlas: atlas, database: big)
            rows.append(r)
            print(String(format: "round %d: full copy %.2f of its bound, delta %.2f of the copy, verify %.2f of reading both sides",
                         round + 1, r.fullRatio, r.deltaRatio, r.verifyRatio))
        }
        // Peak RSS at a quarter of the documents.
        let smallFull = try runChild("full-sync", local: local, atlas: atlas, database: small)

        func median<T>(_ key: (Round) -> T, by value: (T) -> Double) -> T {
            rows.map(key).sorted { value($0) < value($1) }[rows.count / 2]
        }
        func ratio(_ key: (Round) -> Double) -> String { String(format: "%.2f", median(key, by: { $0 })) }
        func cpuPer100k(_ run: ChildResult) -> String {
            String(format: "%.2f s", (run.user + run.system) / Double(max(run.documents, 1)) * 100_000)
        }
        let full = median(\.full, by: \.seconds)
        let delta = median(\.delta, by: \.seconds)
        let verify = median(\.verify, by: \.seconds)
        let scanRate = Double(documents) / median(\.scan, by: { $0 })
        let insertRate = Double(documents) / median(\.insert, by: { $0 })
        let both = median(\.both, by: { $0 })
        let table: [[String]] = [
            ["measure", "result", "bound / reference (same run)", "ratio", "target"],
            ["full-sync into empty Atlas", "\(format(Int(Double(full.documents) / full.seconds))) docs/s (\(String(format: "%.1f", full.seconds)) s)",
             "min(local scan \(format(Int(scanRate)))/s, Atlas bulk insert \(format(Int(insertRate)))/s)", ratio(\.fullRatio), "≥ 0.8"],
            ["delta full-sync, 1 % changed", "\(String(format: "%.2f", delta.seconds)) s, \(format(delta.written)) written",
             "full copy \(String(format: "%.2f", full.seconds)) s", ratio(\.deltaRatio), "≤ 0.25"],
            ["  its floor here: reading both sides at once", "\(String(format: "%.2f", both)) s", "full copy \(String(format: "%.2f", full.seconds)) s",
             ratio(\.readingRatio), ""],
            ["  delta vs reading both sides at once", "", "", ratio(\.deltaOverReading), ""],
            ["deep verify", "\(format(Int(Double(verify.documents) / verify.seconds))) docs/s (\(String(format: "%.2f", verify.seconds)) s)",
             "both sides read at once \(format(Int(Double(documents) / both))) docs/s", ratio(\.verifyRatio), "≥ 0.8"],
            ["CPU (user + sys) per 100k docs", "full-sync \(cpuPer100k(full)), delta \(cpuPer100k(delta)), verify \(cpuPer100k(verify))",
             "", "", ""],
            ["peak RSS, full-sync", "\(format(smallDocuments)): \(smallFull.maxRSSMiB) MiB, \(format(documents)): \(full.maxRSSMiB) MiB",
             "", String(format: "%.2f", Double(full.maxRSSKiB) / Double(max(smallFull.maxRSSKiB, 1))), "≤ 1.10"],
            ["peak RSS, deep verify", "\(format(documents)): \(verify.maxRSSMiB) MiB", "", "", ""],
        ]
        BenchSupport.printTable(table)
    }

    /// One round's measurements (seconds) and ratios.
    struct Round {
        var scan = 0.0
        var insert = 0.0
        var full = ChildResult()
        var delta = ChildResult()
        var both = 0.0
        var verify = ChildResult()

        /// Full copy rate over min(scan rate, insert rate).
        var fullRatio: Double { (Double(full.documents) / full.seconds) / (Double(documents) / max(scan, insert)) }
        var deltaRatio: Double { delta.seconds / full.seconds }
        var readingRatio: Double { both / full.seconds }
        var deltaOverReading: Double { delta.seconds / both }
        var verifyRatio: Double { (Double(verify.documents) / verify.seconds) / (Double(documents) / both) }
    }

    // MARK: The measured runs, in a child process each

    struct ChildResult {
        var seconds = 0.0
        var documents = 0
        var written = 0
        var user = 0.0
        var system = 0.0
        var maxRSSKiB = 0
        var maxRSSMiB: Int { maxRSSKiB / 1024 }
    }

    private static func runChild(_ job: String, local: String, atlas: String, database: String) throws -> ChildResult {
        let fields = try BenchSupport.runChild(
            "sync", environment: ["SYNCCTL_BENCH_SYNC_CHILD": job, "SYNCCTL_BENCH_DATABASE": database], what: job)
        return ChildResult(seconds: Double(fields[0]) ?? 0, documents: Int(fields[1]) ?? 0, written: Int(fields[2]) ?? 0,
                           user: Double(fields[3]) ?? 0, system: Double(fields[4]) ?? 0, maxRSSKiB: Int(fields[5]) ?? 0)
    }

    /// In the child: one full-sync or deep verify of `SYNCCTL_BENCH_DATABASE` into `<it>_atlas`.
    private static func child(_ job: String, local: String, atlas: String) async throws {
        let database = ProcessInfo.processInfo.environment["SYNCCTL_BENCH_DATABASE"] ?? "syncbench"
        let settings = try Settings.resolve(
            flags: [.localURI: uri(local, database), .atlasURI: uri(atlas, database + "_atlas")], environment: [:], file: nil)
        let connections = try DualConnection(settings: settings, options: pool())
        defer { connections.close() }
        let clock = ContinuousClock()
        let start = clock.now
        var documents = 0
        var written = 0
        switch job {
        case "full-sync":
            var options = FullSyncOptions()
            options.workers = workers
            let report = try await FullSync(connections: connections, options: options, checkpointFile: nil).run()
            documents = report.documentsScanned
            written = report.documentsWritten
        default:
            var options = VerifyOptions()
            options.workers = workers
            options.spillDirectory = NSTemporaryDirectory() + "syncbench-verify"
            let report = try await ConsistencyCheck(connections: connections, options: options).run()
            documents = report.collections.reduce(0) { $0 + $1.localCount }
            guard report.consistent else { throw BenchError("verify found \(report.differences) differences after full-sync") }
        }
        let elapsed = clock.now - start
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        print("RESULT \(elapsed.seconds) \(documents) \(written) \(user) \(system) \(BenchSupport.peakResidentKiB())")
    }

    // MARK: Data and raw rates

    private static func seed(_ connection: MongoConnection, database: String, names: [String], total: Int) async throws {
        let perCollection = total / names.count
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, name) in names.enumerated() {
                group.addTask {
                    let writer = BulkWriter(connection: connection, database: database, collection: name, limits: BulkLimits(maxCount: 1_000))
                    for n in 0..<perCollection {
                        try await writer.add(.insert(sampleDocument(collection: index, number: n)))
                    }
                    try await writer.flush()
                }
            }
            try await group.waitForAll()
        }
    }

    /// About 1 KB: an ObjectId, strings, numbers of several types, a date, a nested document, an array.
    static func sampleDocument(collection: Int, number: Int) -> BSONDocument {
        var oid = [UInt8](repeating: 0, count: 12)
        oid[0] = UInt8(collection)
        withUnsafeBytes(of: UInt64(number).bigEndian) { oid.replaceSubrange(4..<12, with: $0) }
        return BSONDocument(pairs: [
            ("_id", .objectID(ObjectID(bytes: oid)!)),
            ("name", .string("customer \(number)")),
            ("email", .string("customer\(number)@bomba.example")),
            ("total", .decimal128(Decimal128("\(number % 9000).\(number % 100)") ?? Decimal128("0")!)),
            ("visits", .int64(Int64(number % 5000))),
            ("score", .double(Double(number) / 7)),
            ("createdAt", .datetime(1_700_000_000_000 + Int64(number) * 60_000)),
            ("address", .document(["street": .string("\(number) rue de la Paix"), "city": "Lyon", "zip": "69001"])),
            ("tags", .array(["regular", .string("t\(number % 17)")])),
            ("notes", .string(String(repeating: "n", count: 700))),
        ])
    }

    /// Every hundredth document gets `changed: round` (a new value each round).
    private static func changeOnePercent(_ connection: MongoConnection, database: String, names: [String], round: Int) async throws {
        let perCollection = documents / names.count
        for (index, name) in names.enumerated() {
            let writer = BulkWriter(connection: connection, database: database, collection: name)
            for n in stride(from: 0, to: perCollection, by: 100) {
                var document = sampleDocument(collection: index, number: n)
                document = document.appending("changed", .int32(Int32(round)))
                try await writer.add(.upsert(filter: document.idFilter!, document: document))
            }
            try await writer.flush()
        }
    }

    private static func scanAll(_ connection: MongoConnection, database: String, names: [String]) async throws {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for name in names {
                group.addTask {
                    try await connection.withFind(database: database, collection: name, options: .byID(batchSize: 1_000)) { stream in
                        var count = 0
                        while let batch = try await stream.next() { count += batch.count }
                        return count
                    }
                }
            }
            let total = try await group.reduce(0, +)
            guard total == documents else { throw BenchError("scanned \(total) documents, expected \(documents)") }
        }
    }

    /// Raw bulk inserts of the same documents into a scratch Atlas database (read first, so
    /// only the inserts are timed).
    private static func insertAll(from source: MongoConnection, to target: MongoConnection, database: String, into scratch: String,
                                  names: [String]) async throws -> Double {
        var loaded: [[BSONDocument]] = []
        for name in names {
            loaded.append(try await source.withFind(database: database, collection: name, options: .byID()) { stream in
                var all: [BSONDocument] = []
                while let batch = try await stream.next() { all += batch }
                return all
            })
        }
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, name) in names.enumerated() {
                let documents = loaded[index]
                group.addTask {
                    let writer = BulkWriter(connection: target, database: scratch, collection: name, limits: BulkLimits(maxCount: 1_000))
                    for document in documents { try await writer.add(.insert(document)) }
                    try await writer.flush()
                }
            }
            try await group.waitForAll()
        }
        return (ContinuousClock.now - start).seconds
    }

    private static func timed(_ body: () async throws -> Void) async throws -> Double {
        let start = ContinuousClock.now
        try await body()
        return (ContinuousClock.now - start).seconds
    }

    // MARK: Helpers

    private static func pool() -> PoolOptions {
        var options = PoolOptions()
        options.maxPoolSize = UInt32(workers * 2 + 4)
        return options
    }

    /// `mongodb://host:port/<database>?<options>` from a server URI.
    static func uri(_ base: String, _ database: String) -> String {
        let (head, query) = base.firstIndex(of: "?").map { (String(base[..<$0]), String(base[$0...])) } ?? (base, "")
        guard let scheme = head.range(of: "://") else { return base }
        let hosts = head[scheme.upperBound...].split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
        return head[..<scheme.upperBound] + hosts + "/" + database + query
    }


    static func format(_ value: Int) -> String {
        thousands.string(from: NSNumber(value: value)) ?? "\(value)"
    }

    private static let thousands: NumberFormatter = {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.groupingSeparator = ","
        return formatter
    }()
}
