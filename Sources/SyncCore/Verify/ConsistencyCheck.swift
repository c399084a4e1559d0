import Foundation

/// How verify-consistency runs.
public struct VerifyOptions: Sendable {
    public var mode: ConsistencyReport.Mode = .deep
    /// Only these collections (`--collections`); nil: every collection.
    public var collections: [String]?
    /// `SYNC_EXCLUDED_COLLECTIONS`: listed as excluded, not compared.
    public var excluded: [String] = []
    /// Differences shown per collection, with their fields (`--show`).
    public var show = 10
    /// Show the differing values too (`--show-values`).
    public var showValues = false
    /// Copy exactly the differing documents to Atlas, then check them again (`--repair`).
    public var repair = false
    public var workers = 4
    public var partitionDocuments = 50_000
    /// Documents per compared range (and per local read).
    public var chunkDocuments = 1_000
    /// Differences are re-read from both sides after this delay, `recheckRounds` times; only
    /// those that persist through every round are reported.
    public var recheckDelay: Duration = .seconds(1)
    public var recheckRounds = 3
    /// `_id`s re-read per query.
    public var recheckBatch = 500
    /// Candidates kept in memory per collection; more spill to a file in `spillDirectory`.
    public var memoryIDs = 1_000
    public var spillDirectory = ".syncctl/verify"
    public var retry = TransientRetry(maxRetries: 5)
    /// Repairs write in batches like full-sync (`SYNC_BATCH_SIZE` is the floor).
    public var batchSize = 100

    public init() {}

    /// A repair writes as full-sync does: these options, for whole missing collections, and
    /// their `bulkLimits` for single documents.
    var syncOptions: FullSyncOptions {
        var sync = FullSyncOptions()
        sync.excluded = excluded
        sync.workers = workers
        sync.batchSize = batchSize
        sync.retry = retry
        return sync
    }
}

/// Compares local and Atlas collection by collection. `count` compares the servers' counts;
/// `deep` streams both sides in `_id` order through the same range comparison full-sync uses,
/// then re-reads every difference from both sides after a delay — several times — and
/// reports only those that persist, so a write still on its way to Atlas is never reported
/// (migration-verifier's recheck queue). Differences beyond `show` are counted, not kept:
/// their `_id`s wait for the recheck in an `IDQueue` that spills to disk.
public final class ConsistencyCheck: Sendable {
    public let connections: DualConnection
    public let options: VerifyOptions
    public let progress = SyncProgress()

    public init(connections: DualConnection, options: VerifyOptions) {
        self.connections = connections
        self.options = options
    }

    private var local: MongoConnection { connections.local }

    public func run() async throws -> ConsistencyReport {
        let clock = ContinuousClock()
        let start = clock.now
        let atlas = try connections.requireAtlas()
        let (localInfos, atlasInfos) = try await options.retry.run("listing collections") {
            (try await local.collections(in: connections.localDatabase), try await atlas.collections(in: connections.atlasDatabase))
        }
        let selection = try CollectionSelection.select(
            local: localInfos, atlas: atlasInfos, excluded: options.excluded, only: options.collections,
            localDatabase: connections.localDatabase, atlasDatabase: connections.atlasDatabase)
        var report = ConsistencyReport(
            mode: options.mode, localDatabase: connections.localDatabase, atlasDatabase: connections.atlasDatabase,
            repair: options.repair)
        switch options.mode {
        case .count: report.collections = try await counts(selection, atlas: atlas)
        case .deep: report.collections = try await deep(selection, atlas: atlas)
        }
        report.seconds = (clock.now - start).seconds
        return report
    }

    // MARK: Count mode

    private func counts(_ selection: [SelectedCollection], atlas: MongoConnection) async throws -> [ConsistencyReport.Collection] {
        var result: [ConsistencyReport.Collection] = []
        for entry in selection {
            if entry.excluded {
                result.append(.init(name: entry.name, status: .excluded))
                continue
            }
            let clock = ContinuousClock()
            let start = clock.now
            async let localCount = count(local, connections.localDatabase, entry.local == nil ? nil : entry.name)
            async let atlasCount = count(atlas, connections.atlasDatabase, entry.atlas == nil ? nil : entry.name)
            var collection = ConsistencyReport.Collection(name: entry.name, status: .consistent)
            collection.localCount = try await localCount
            collection.atlasCount = try await atlasCount
            collection.status = switch entry.presence {
            case .localOnly: .missingInAtlas
            case .atlasOnly: .onlyInAtlas
            case .both: collection.localCount == collection.atlasCount ? .consistent : .different
            }
            collection.seconds = (clock.now - start).seconds
            result.append(collection)
        }
        return result
    }

    private func count(_ connection: MongoConnection, _ database: String, _ collection: String?) async throws -> Int {
        guard let collection else { return 0 }
        return try await options.retry.run("counting \(collection)") {
            Int(try await connection.countDocuments(database: database, collection: collection))
        }
    }

    // MARK: Deep mode

    /// One compared collection's state between the scan and the report.
    private final class Compared: @unchecked Sendable {
        // Invariant: `candidates` is thread-safe itself; the rest is written only by the task
        // that runs the recheck and the repair, after every scan worker has finished.
        let name: String
        /// Where this collection's `_id` lists spill to disk (a prefix).
        let spill: String
        let candidates: IDQueue
        var confirmed: IDQueue
        var collection: ConsistencyReport.Collection

        init(name: String, spill: String, memoryIDs: Int) {
            self.name = name
            self.spill = spill
            candidates = IDQueue(spillPath: "\(spill)-candidates", memoryLimit: memoryIDs)
            confirmed = IDQueue(spillPath: "\(spill)-confirmed", memoryLimit: memoryIDs)
            collection = ConsistencyReport.Collection(name: name, status: .consistent)
        }
    }

    private func deep(_ selection: [SelectedCollection], atlas: MongoConnection) async throws -> [ConsistencyReport.Collection] {
        let spillPrefix = "\(options.spillDirectory)/verify-\(getpid())"
        var compared: [String: Compared] = [:]
        var oneSided: [String: ConsistencyReport.Collection] = [:]
        var work: [(Compared, IDRange)] = []
        let collated = Set(selection.filter { $0.hasCollation }.map(\.name))
        let partitioner = Partitioner(connection: local, database: connections.localDatabase,
                                      partitionDocuments: options.partitionDocuments)
        for (index, entry) in selection.enumerated() where !entry.excluded {
            switch entry.presence {
            case .both:
                let item = Compared(name: entry.name, spill: "\(spillPrefix)-\(index)", memoryIDs: options.memoryIDs)
                compared[entry.name] = item
                let count = try await options.retry.run("counting \(entry.name)") {
                    try await local.estimatedCount(database: connections.localDatabase, collection: entry.name)
                }
                let ranges = try await options.retry.run("splitting \(entry.name)") {
                    try await partitioner.partitions(of: entry.name, count: count)
                }
                progress.register(entry.name, expected: count, parts: ranges.count)
                work += ranges.map { (item, $0) }
            case .localOnly, .atlasOnly:
                // A collection on one side only is not scanned: every document of it differs.
                var collection = ConsistencyReport.Collection(
                    name: entry.name, status: entry.presence == .localOnly ? .missingInAtlas : .onlyInAtlas)
                collection.localCount = try await count(local, connections.localDatabase, entry.local == nil ? nil : entry.name)
                collection.atlasCount = try await count(atlas, connections.atlasDatabase, entry.atlas == nil ? nil : entry.name)
                collection.missingInAtlas = entry.presence == .localOnly ? collection.localCount : 0
                collection.extraInAtlas = entry.presence == .atlasOnly ? collection.atlasCount : 0
                oneSided[entry.name] = collection
            }
        }
        defer {
            for item in compared.values {
                item.candidates.close()
                item.confirmed.close()
            }
        }

        // Scan: the workers share every collection's partitions.
        let queue = WorkQueue(work.indices.map { $0 })
        let jobs = work
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, min(options.workers, jobs.count)) {
                group.addTask {
                    while let index = await queue.take() {
                        try await self.scan(jobs[index].1, of: jobs[index].0, atlas: atlas,
                                            collated: collated.contains(jobs[index].0.name))
                    }
                }
            }
            try await group.waitForAll()
        }
        for entry in progress.snapshot() {
            guard let item = compared[entry.name] else { continue }
            item.collection.localCount = entry.counters.scanned
            item.collection.atlasCount = entry.counters.atlasDocuments
            item.collection.seconds = entry.seconds
        }

        // Recheck: only differences that persist are reported.
        let rechecker = Rechecker(local: local, atlas: atlas, localDatabase: connections.localDatabase,
                                  atlasDatabase: connections.atlasDatabase, options: options)
        let withCandidates = compared.values.filter { !$0.candidates.isEmpty }.sorted { $0.name < $1.name }
        for (index, item) in withCandidates.enumerated() {
            let outcome = try await rechecker.confirm(item.candidates, collection: item.name, spill: "\(spillPrefix)-recheck-\(index)")
            item.confirmed = outcome.confirmed
            item.collection.missingInAtlas = outcome.missing
            item.collection.extraInAtlas = outcome.extra
            item.collection.different = outcome.different
            item.collection.changing = outcome.changing
            item.collection.samples = outcome.samples
            item.collection.status = outcome.confirmed.isEmpty ? .consistent : .different
        }

        if options.repair {
            for item in withCandidates where !item.confirmed.isEmpty {
                let (written, remaining) = try await rechecker.repair(item.confirmed, collection: item.name)
                item.collection.repaired = written
                item.collection.remaining = remaining
                if remaining == 0 { item.collection.status = .consistent }
            }
            let missing = oneSided.values.filter { $0.status == .missingInAtlas }.map(\.name).sorted()
            if !missing.isEmpty {
                // A whole collection missing in Atlas is repaired as full-sync would: created with
                // its options and indexes, then copied.
                var syncOptions = options.syncOptions
                syncOptions.collections = missing
                let sync = try await FullSync(connections: connections, options: syncOptions, checkpointFile: nil).run()
                for collection in sync.collections {
                    guard var repaired = oneSided[collection.name] else { continue }
                    let atlasCount = try await count(atlas, connections.atlasDatabase, collection.name)
                    repaired.repaired = collection.written
                    repaired.remaining = abs(repaired.localCount - atlasCount)
                    if repaired.remaining == 0 && collection.writeErrors == 0 { repaired.status = .consistent }
                    oneSided[collection.name] = repaired
                }
            }
        }

        return selection.map { entry in
            if entry.excluded { return ConsistencyReport.Collection(name: entry.name, status: .excluded) }
            return compared[entry.name]?.collection ?? oneSided[entry.name] ?? ConsistencyReport.Collection(name: entry.name, status: .consistent)
        }
    }

    /// Scans one partition, retrying transient failures from the last range compared to the end.
    private func scan(_ range: IDRange, of item: Compared, atlas: MongoConnection, collated: Bool) async throws {
        progress.partStarted(item.name)
        var scanner = RangeScanner(
            local: local, atlas: atlas, localDatabase: connections.localDatabase, atlasDatabase: connections.atlasDatabase,
            collection: item.name)
        scanner.chunkDocuments = options.chunkDocuments
        scanner.keepDocuments = false
        scanner.atlasInOneCursor = !collated
        let sink = CandidateSink(collection: item.name, queue: item.candidates, progress: progress,
                                 spill: "\(item.spill)-range-\(UUID().uuidString)", memoryIDs: options.memoryIDs)
        defer { sink.discardCurrent() }
        try await scanner.scanUntilDone(
            range, into: sink, retry: options.retry, what: "verify \(item.name)", resumeFrom: { sink.completedBound },
            progress: { sink.ranges }, discard: { sink.discardCurrent() })
        progress.partFinished(item.name)
    }
}

/// Verify's scan sink: every difference becomes a recheck candidate. A range's candidates are
/// queued for the recheck only once the range is compared to its end, so a range scanned
/// again after a transient failure never queues its candidates twice; until then they wait in
/// an `IDQueue` of the sink's own, which spills to disk (a range whose Atlas side holds a
/// flood of extra documents must not fill memory).
final class CandidateSink: ScanSink {
    let collection: String
    let queue: IDQueue
    let progress: SyncProgress
    private let current: IDQueue
    private var counters = CollectionCounters()
    private(set) var completedBound: DocumentID?
    private(set) var ranges = 0

    init(collection: String, queue: IDQueue, progress: SyncProgress, spill: String, memoryIDs: Int) {
        self.collection = collection
        self.queue = queue
        self.progress = progress
        current = IDQueue(spillPath: spill, memoryLimit: memoryIDs)
    }

    func missing(_ id: DocumentID?, local: BSONDocument?, emptyRange: Bool) async throws {
        counters.missing += 1
        if let id { try add(id) }
    }

    func different(_ id: DocumentID, local: BSONDocument?) async throws {
        counters.different += 1
        try add(id)
    }

    func extra(_ id: DocumentID) async throws {
        counters.extra += 1
        try add(id)
    }

    private func add(_ id: DocumentID) throws {
        try current.append(id)
    }

    func rangeDone(upper: DocumentID?, scanned: Int, equal: Int, atlasDocuments: Int) async throws {
        try await current.forEachBatch(of: 1_000) { batch in
            for id in batch { try queue.append(id) }
        }
        current.close()
        counters.scanned += scanned
        counters.equal += equal
        counters.atlasDocuments += atlasDocuments
        progress.record(collection, counters)
        counters = CollectionCounters()
        if let upper { completedBound = upper }
        ranges += 1
    }

    /// Forgets the range being compared (before it is scanned again), and its spill file.
    func discardCurrent() {
        current.close()
        counters = CollectionCounters()
    }
}
