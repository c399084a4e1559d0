import Foundation
import Logging
import Synchronization

/// Thresholds and size of `syncctl perf-test`.
public struct PerfTestOptions: Sendable {
    /// Inserts per phase (`--ops`).
    public var operations = 1_000
    /// The seed's "average operation time < 10 ms", for inserts with sync on.
    public var maxAverageOperationMillis = 10.0
    /// The seed's "average sync time < 500 ms": local write → acknowledged by Atlas.
    public var maxAverageSyncMillis = 500.0
    /// How long to wait for the replay worker to deliver the last entries.
    public var deliveryTimeout: Duration = .seconds(120)

    public init() {}
}

/// One pass/fail line of a test report.
public struct TestVerdict: Sendable, Codable, Equatable {
    public let claim: String
    public let passed: Bool
    public let detail: String

    public init(claim: String, passed: Bool, detail: String) {
        self.claim = claim
        self.passed = passed
        self.detail = detail
    }
}

/// What `perf-test` measured.
public struct PerfTestReport: Sendable, Codable {
    public var operations: Int
    public var collection: String
    /// Insert latency as the application sees it, without and with sync.
    public var syncOff: LatencySummary?
    public var syncOn: LatencySummary?
    /// The queue append alone (part of `syncOn`).
    public var append: LatencySummary?
    /// Local write → Atlas acknowledgement, through the replay worker.
    public var syncTime: LatencySummary?
    public var delivered: Int
    public var options: Thresholds
    public var verdicts: [TestVerdict]
    public var seconds: Double
    public var passed: Bool { verdicts.allSatisfy(\.passed) }

    public struct Thresholds: Sendable, Codable {
        public var maxAverageOperationMillis: Double
        public var maxAverageSyncMillis: Double
    }
}

/// Seed 001 step 2.9 done properly: N inserts into a scratch collection as the application
/// makes them (one acknowledged insert each), first with sync off, then with sync on — each
/// insert followed by its queue append, a replay worker running — with latencies from an
/// HdrHistogram and the end-to-end sync time of every document. The scratch collection (on
/// local and on Atlas) and the scratch queue are removed afterwards, whatever happens;
/// application collections and the application's queue file are never touched.
public struct PerfTest: Sendable {
    public let settings: Settings
    public let connection: DualConnection
    public let options: PerfTestOptions
    let logger = Logger(label: "syncctl.perf-test")

    public init(settings: Settings, connection: DualConnection, options: PerfTestOptions) {
        self.settings = settings
        self.connection = connection
        self.options = options
    }

    /// Runs both phases; `progress` hears about each step.
    public func run(progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> PerfTestReport {
        let clock = ContinuousClock()
        let started = clock.now
        let atlas = try connection.requireAtlas()
        let local = connection.local
        let database = connection.localDatabase
        return try await ScratchNames.withScratch("perftest", settings: settings, connection: connection) { collection, queue in
            try await measure(local: local, atlas: atlas, database: database, collection: collection, queue: queue,
                              progress: progress, started: started)
        }
    }

    private func measure(local: MongoConnection, atlas: MongoConnection, database: String, collection: String,
                         queue: ScratchQueue, progress: @escaping @Sendable (String) -> Void,
                         started: ContinuousClock.Instant) async throws -> PerfTestReport {
        let clock = ContinuousClock()
        let n = options.operations

        progress("sync off: \(n) inserts into \(database).\(collection)")
        var off = LatencyRecorder()
        for i in 0..<n {
            try Task.checkCancellation()
            let document = PerfTest.document(i, phase: "off")
            let start = clock.now
            try await local.insert([document], database: database, collection: collection)
            off.record(clock.now - start)
        }
        // The sync-off documents are not synced: only the sync-on ones are expected in Atlas.
        try await local.dropCollection(collection, database: database)

        progress("sync on: \(n) inserts, each followed by its queue append, replay worker running")
        let starts = Mutex<[UUID: ContinuousClock.Instant]>([:])
        let synced = Mutex(LatencyRecorder())
        let onApplied: @Sendable ([AppliedEntry]) -> Void = { entries in
            let begun = starts.withLock { map in
                entries.compactMap { entry in map.removeValue(forKey: entry.id).map { (entry.acknowledged, $0) } }
            }
            synced.withLock { recorder in
                for (acknowledged, start) in begun { recorder.record(acknowledged - start) }
            }
        }
        let stop = StopSignal()
        let worker = try ReplayWorker(
            files: queue.files, applier: MirrorApplier(local: local, atlas: atlas, localDatabase: database, atlasDatabase: connection.atlasDatabase),
            options: ReplayOptions(settings: settings, follow: true), logger: logger, onApplied: onApplied)
        let workerTask = Task { try await worker.follow(stop: stop) }
        var on = LatencyRecorder()
        var append = LatencyRecorder()
        let appender = QueueAppender(path: queue.files.path, durable: settings.persistQueue)
        do {
            for i in 0..<n {
                try Task.checkCancellation()
                let document = PerfTest.document(i, phase: "on")
                let start = clock.now
                try await local.insert([document], database: database, collection: collection)
                let written = clock.now
                let entry = QueueEntry(database: database, collection: collection, operation: .insert, documentID: document["_id"]!)
                starts.withLock { $0[entry.id] = start }
                try appender.append(entry)
                let end = clock.now
                on.record(end - start)
                append.record(end - written)
            }
            progress("waiting for the replay worker to deliver every entry to Atlas")
            let deadline = clock.now + options.deliveryTimeout
            while clock.now < deadline, synced.withLock({ $0.count }) < n {
                try Task.checkCancellation()
                try await Task.sleep(for: .milliseconds(20))
            }
        } catch {
            stop.stop()
            _ = try? await workerTask.value
            throw error
        }
        stop.stop()
        _ = try await workerTask.value
        let delivered = Int(try await atlas.countDocuments(database: connection.atlasDatabase, collection: collection))

        let syncTime = synced.withLock { $0.summary }
        var verdicts: [TestVerdict] = []
        if let summary = on.summary {
            verdicts.append(TestVerdict(
                claim: "average operation time with sync on < \(Self.ms(options.maxAverageOperationMillis))",
                passed: summary.average < options.maxAverageOperationMillis,
                detail: "\(Self.ms(summary.average)) (sync off: \(Self.ms(off.summary?.average ?? 0)))"))
        }
        verdicts.append(TestVerdict(
            claim: "average sync time < \(Self.ms(options.maxAverageSyncMillis))",
            passed: (syncTime?.average ?? .infinity) < options.maxAverageSyncMillis,
            detail: syncTime.map { "\(Self.ms($0.average)) (p95 \(Self.ms($0.p95)))" } ?? "nothing reached Atlas"))
        verdicts.append(TestVerdict(
            claim: "every document reached Atlas", passed: delivered == n && syncTime?.count == n,
            detail: "\(delivered) of \(n) in Atlas"))
        return PerfTestReport(
            operations: n, collection: collection, syncOff: off.summary, syncOn: on.summary, append: append.summary,
            syncTime: syncTime, delivered: delivered,
            options: .init(maxAverageOperationMillis: options.maxAverageOperationMillis, maxAverageSyncMillis: options.maxAverageSyncMillis),
            verdicts: verdicts, seconds: (clock.now - started).seconds)
    }

    /// A document like the seed's test model: `{data: "Test data i", index: i}`.
    static func document(_ index: Int, phase: String) -> BSONDocument {
        BSONDocument(pairs: [
            ("_id", .objectID(.generate())), ("data", .string("Test data \(index)")), ("index", .int32(Int32(index))),
            ("phase", .string(phase)), ("at", .datetime(Int64(Date().timeIntervalSince1970 * 1000))),
        ])
    }

    /// `0.85 ms`, `120 ms`: two decimals under 10 ms.
    public static func ms(_ value: Double) -> String {
        value < 10 ? String(format: "%.2f ms", value) : String(format: "%.0f ms", value)
    }
}

/// Names and clean-up of the scratch collections the tests write: `syncctl_<purpose>_<hex>`,
/// never an application collection.
enum ScratchNames {
    static func collection(_ purpose: String) -> String {
        "syncctl_\(purpose)_\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }

    static func drop(_ collection: String, connection: DualConnection) async throws {
        precondition(collection.hasPrefix("syncctl_"), "only scratch collections are dropped")
        try await connection.local.dropCollection(collection, database: connection.localDatabase)
        try await connection.requireAtlas().dropCollection(collection, database: connection.atlasDatabase)
    }

    /// Runs `body` with a scratch collection and a scratch queue, and removes both (on local
    /// and on Atlas) however it ends.
    static func withScratch<T>(_ purpose: String, settings: Settings, connection: DualConnection,
                               _ body: (String, ScratchQueue) async throws -> T) async throws -> T {
        let collection = ScratchNames.collection(purpose)
        let queue = try ScratchQueue(settings: settings, purpose: purpose)
        do {
            let result = try await body(collection, queue)
            try await drop(collection, connection: connection)
            queue.remove()
            return result
        } catch {
            try? await drop(collection, connection: connection)
            queue.remove()
            throw error
        }
    }
}

/// A queue of its own for a test run, in a hidden directory beside the application's queue
/// file (so appends are measured on the same disk), removed afterwards.
struct ScratchQueue: Sendable {
    let directory: String
    let files: QueueFiles

    init(settings: Settings, purpose: String) throws(StateError) {
        let parent = PathParts.parent(settings.queueFile)
        directory = "\(parent.isEmpty ? "." : parent)/.syncctl-\(purpose)-\(UUID().uuidString.lowercased().prefix(8))"
        try AtomicFile.makeDirectory(directory)
        files = QueueFiles(path: "\(directory)/queue.jsonl", state: StateDirectory(path: directory))
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}
