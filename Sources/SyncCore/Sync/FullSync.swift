import Foundation

/// How a full-sync runs.
public struct FullSyncOptions: Sendable {
    /// Only these collections (`--collections`); nil: every collection.
    public var collections: [String]?
    /// `SYNC_EXCLUDED_COLLECTIONS`: never read nor written.
    public var excluded: [String] = []
    /// Delete Atlas documents local does not have (`--no-prune` turns it off).
    public var prune = true
    /// Compare and report only; write nothing (no Atlas write, no checkpoint).
    public var dryRun = false
    /// Partitions worked on at once (`--workers`).
    public var workers = 4
    /// `SYNC_BATCH_SIZE`: the fewest documents per bulk write. Batches are at least
    /// `minimumBatch` documents, because each round trip to Atlas costs far more than a few
    /// hundred more documents in it.
    public var batchSize = 100
    public var minimumBatch = 1_000
    public var maxBatchBytes = 8 << 20
    /// A collection of at least twice this many documents is split into `_id` ranges of about
    /// this many, shared by the workers.
    public var partitionDocuments = 50_000
    /// Documents per compared range (and per local read).
    public var chunkDocuments = 1_000
    public var retry = TransientRetry(maxRetries: 5)
    /// A checkpoint is written at least this often while ranges compare equal (and after
    /// every committed batch).
    public var checkpointInterval: Duration = .seconds(1)

    public init() {}

    /// The bulk-write thresholds: `SYNC_BATCH_SIZE` is the floor, not the ceiling.
    public var bulkLimits: BulkLimits {
        BulkLimits(maxCount: max(batchSize, minimumBatch), maxBytes: maxBatchBytes)
    }
}

/// Makes Atlas equal to local for every selected collection: creates what is missing
/// (collection, options, indexes), then compares both sides range by range in `_id` order and
/// writes only the documents that differ — upserting local's full document by `_id`, and
/// deleting what Atlas has and local does not (unless pruning is off). Local is only ever
/// read. Resumable from its checkpoint; safe to run again at any point.
public final class FullSync: Sendable {
    public let connections: DualConnection
    public let options: FullSyncOptions
    /// Where the checkpoint lives; nil runs without one (a repair, a dry run).
    public let checkpointFile: CheckpointFile?
    public let progress = SyncProgress()

    public init(connections: DualConnection, options: FullSyncOptions, checkpointFile: CheckpointFile?) {
        self.connections = connections
        self.options = options
        self.checkpointFile = options.dryRun ? nil : checkpointFile
    }

    private var local: MongoConnection { connections.local }

    /// Runs the sync; see `FullSyncReport` for what it returns. Throws on a failure that
    /// outlasted the retries (the checkpoint keeps what was done) and on cancellation.
    public func run() async throws -> FullSyncReport {
        let clock = ContinuousClock()
        let start = clock.now
        let atlas = try connections.requireAtlas()
        let retry = options.retry
        let (localInfos, atlasInfos) = try await retry.run("listing collections") {
            (try await local.collections(in: connections.localDatabase), try await atlas.collections(in: connections.atlasDatabase))
        }
        let selection = try CollectionSelection.select(
            local: localInfos, atlas: atlasInfos, excluded: options.excluded, only: options.collections,
            localDatabase: connections.localDatabase, atlasDatabase: connections.atlasDatabase)
        let active = selection.filter { !$0.excluded && $0.local != nil }

        var report = FullSyncReport(
            localDatabase: connections.localDatabase, atlasDatabase: connections.atlasDatabase, dryRun: options.dryRun,
            prune: options.prune, workers: options.workers)

        // Resume the interrupted run for the same collections, if there is one.
        let identity = SyncCheckpoint(
            localDatabase: connections.localDatabase, atlasDatabase: connections.atlasDatabase,
            localURI: local.redactedURI, atlasURI: atlas.redactedURI, collections: active.map(\.name),
            prune: options.prune, started: Date(), updated: Date())
        var checkpoint = identity
        if let saved = checkpointFile?.load() {
            if saved.canResume(as: identity) {
                checkpoint = saved
                report.resumed = .init(started: saved.started, partitionsDone: saved.partitionsDone, partitions: saved.partitions.count)
            } else {
                report.checkpointDiscarded = saved.collections == identity.collections && saved.prune == identity.prune
                    ? "older than \(Int(SyncCheckpoint.maximumAge / 3600)) hours" : "from a run with other collections or settings"
            }
        }
        let keeper = CheckpointKeeper(checkpoint, file: checkpointFile)

        // Give Atlas the same collections and indexes first, so that it enforces the same
        // unique constraints from the first write on.
        var preparations: [String: Preparation] = [:]
        for entry in active where !checkpoint.prepared.contains(entry.name) {
            preparations[entry.name] = try await retry.run("preparing \(entry.name) in Atlas") {
                try await prepare(entry, atlas: atlas)
            }
            if !options.dryRun { try await keeper.markPrepared(entry.name) }
        }

        // Plan the partitions (kept from the checkpoint when resuming).
        let partitioner = Partitioner(connection: local, database: connections.localDatabase,
                                      partitionDocuments: options.partitionDocuments)
        var counts: [String: Int] = [:]
        var atlasEmpty: Set<String> = []
        // String `_id`s of a collection with a collation sort by it: read Atlas range by range.
        let collated = Set(active.filter { $0.hasCollation }.map(\.name))
        for entry in active {
            counts[entry.name] = try await retry.run("counting \(entry.name)") {
                try await local.estimatedCount(database: connections.localDatabase, collection: entry.name)
            }
            // Empty in Atlas: a straight copy, Atlas is not read. (A resumed run has written
            // some already, so it compares.)
            let inAtlas = entry.atlas == nil
                ? 0 : try await retry.run("counting \(entry.name) in Atlas") {
                    try await atlas.estimatedCount(database: connections.atlasDatabase, collection: entry.name)
                }
            if inAtlas == 0 { atlasEmpty.insert(entry.name) }
        }
        if checkpoint.partitions.isEmpty {
            var partitions: [SyncCheckpoint.Partition] = []
            for entry in active {
                let ranges = try await retry.run("splitting \(entry.name)") {
                    try await partitioner.partitions(of: entry.name, count: counts[entry.name] ?? 0)
                }
                partitions += ranges.map { SyncCheckpoint.Partition(collection: entry.name, range: $0, resumeFrom: nil, done: false) }
            }
            try await keeper.setPartitions(partitions)
        }
        let partitions = await keeper.checkpoint.partitions
        for entry in active {
            let parts = partitions.filter { $0.collection == entry.name && !$0.done }.count
            progress.register(entry.name, expected: counts[entry.name] ?? 0, parts: parts)
        }

        // The workers share the partitions; the largest collections' partitions come first
        // in their collection's order, so that one big collection does not finish last alone.
        let pending = partitions.indices.filter { !partitions[$0].done }
            .sorted { (counts[partitions[$0].collection] ?? 0) > (counts[partitions[$1].collection] ?? 0) }
        let queue = WorkQueue(pending)
        let emptyInAtlas = atlasEmpty
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, min(options.workers, pending.count)) {
                group.addTask {
                    while let index = await queue.take() {
                        let name = partitions[index].collection
                        try await self.sync(partitions[index], index: index, atlas: atlas, keeper: keeper,
                                            atlasWasEmpty: emptyInAtlas.contains(name), collated: collated.contains(name))
                    }
                }
            }
            try await group.waitForAll()
        }
        checkpointFile?.remove()

        let entries = Dictionary(progress.snapshot().map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for selected in selection {
            if selected.excluded {
                report.collections.append(.init(name: selected.name, status: .excluded))
                continue
            }
            if selected.local == nil {
                var collection = FullSyncReport.Collection(name: selected.name, status: .atlasOnly)
                collection.warnings.append(
                    "exists only in Atlas: syncctl never drops a collection; drop it in Atlas or add it to SYNC_EXCLUDED_COLLECTIONS")
                report.collections.append(collection)
                continue
            }
            var collection = FullSyncReport.Collection(name: selected.name, status: .synced)
            if let entry = entries[selected.name] {
                let counters = entry.counters
                collection.scanned = counters.scanned
                collection.equal = counters.equal
                collection.inserted = counters.inserted
                collection.replaced = counters.replaced
                collection.deleted = counters.deleted
                collection.keptInAtlas = options.prune ? 0 : counters.extra
                collection.writeErrors = counters.writeErrors
                collection.firstWriteError = entry.firstWriteError
                collection.seconds = entry.seconds
            }
            if let preparation = preparations[selected.name] {
                collection.created = preparation.created
                collection.indexesCreated = preparation.indexesCreated
                collection.warnings += preparation.warnings
            }
            report.collections.append(collection)
        }
        report.seconds = (clock.now - start).seconds
        return report
    }

    // MARK: Collections and indexes

    struct Preparation: Sendable {
        var created = false
        var indexesCreated: [String] = []
        var warnings: [String] = []
    }

    /// Creates the collection in Atlas with local's options if it is missing, and every index
    /// local has that Atlas lacks (by name). Existing collections and indexes are never changed:
    /// a difference is reported as a warning.
    private func prepare(_ entry: SelectedCollection, atlas: MongoConnection) async throws -> Preparation {
        guard let localInfo = entry.local else { return Preparation() }
        var preparation = Preparation()
        let localIndexes = try await local.indexes(database: connections.localDatabase, collection: entry.name)
        var atlasIndexes: [BSONDocument] = []
        if let atlasInfo = entry.atlas {
            if atlasInfo.options != localInfo.options {
                preparation.warnings.append(
                    "collection options differ (local \(localInfo.options), Atlas \(atlasInfo.options)): syncctl does not change an existing collection's options")
            }
            atlasIndexes = try await atlas.indexes(database: connections.atlasDatabase, collection: entry.name)
        } else {
            preparation.created = true
            if !options.dryRun {
                do {
                    try await atlas.createCollection(entry.name, options: localInfo.options, database: connections.atlasDatabase)
                } catch let error as MongoError where error.code == 48 {
                    // NamespaceExists: created meanwhile (by the application's sync); fine.
                }
            }
        }
        let atlasByName = Dictionary(
            atlasIndexes.compactMap { spec in spec["name"]?.stringValue.map { ($0, spec) } }, uniquingKeysWith: { first, _ in first })
        var missing: [BSONDocument] = []
        for spec in localIndexes {
            // `_id_` comes with the collection; `ns` (servers before 4.4) is not accepted back.
            guard let name = spec["name"]?.stringValue, name != "_id_" else { continue }
            if let existing = atlasByName[name] {
                if existing["key"] != spec["key"] {
                    preparation.warnings.append(
                        "index \(name) has key \(existing["key"].map { "\($0)" } ?? "?") in Atlas but \(spec["key"].map { "\($0)" } ?? "?") locally: syncctl does not change existing indexes")
                }
                continue
            }
            missing.append(spec.creatableIndexSpec)
        }
        if !missing.isEmpty {
            preparation.indexesCreated = missing.compactMap { $0["name"]?.stringValue }
            if !options.dryRun {
                try await atlas.createIndexes(missing, database: connections.atlasDatabase, collection: entry.name)
            }
        }
        return preparation
    }

    // MARK: One partition

    /// Syncs one partition from its checkpoint bound, retrying transient failures from the last
    /// committed batch: what was not acknowledged is dropped and compared again (every write
    /// is idempotent, so redoing a batch is harmless).
    private func sync(_ partition: SyncCheckpoint.Partition, index: Int, atlas: MongoConnection, keeper: CheckpointKeeper,
                      atlasWasEmpty: Bool, collated: Bool) async throws {
        progress.partStarted(partition.collection)
        var scanner = RangeScanner(
            local: local, atlas: atlas, localDatabase: connections.localDatabase, atlasDatabase: connections.atlasDatabase,
            collection: partition.collection)
        scanner.chunkDocuments = options.chunkDocuments
        scanner.chunkBytes = options.maxBatchBytes
        scanner.keepDocuments = !options.dryRun
        scanner.atlasWasEmpty = atlasWasEmpty
        scanner.atlasInOneCursor = !collated
        let writer = options.dryRun
            ? nil
            : SyncWriter(connection: atlas, database: connections.atlasDatabase, collection: partition.collection,
                         limits: options.bulkLimits)
        let sink = SyncSink(
            collection: partition.collection, partition: index, writer: writer, prune: options.prune, dryRun: options.dryRun,
            progress: progress, keeper: keeper, commitInterval: options.checkpointInterval)
        if let resume = partition.resumeFrom, resume == partition.range.upper {
            // Killed between committing the last range and marking the partition done.
            try await keeper.finish(index)
            progress.partFinished(partition.collection)
            return
        }
        try await scanner.scanUntilDone(
            partition.range, into: sink, retry: options.retry, what: "full-sync \(partition.collection)",
            resumeFrom: { sink.committedBound ?? partition.resumeFrom }, progress: { sink.commits },
            discard: { sink.discardPending() }, finish: { try await sink.finish() })
        progress.partFinished(partition.collection)
    }
}

/// What full-sync does with each difference a scan finds: upsert the local document, delete
/// the Atlas-only one (when pruning), commit in batches, and move the checkpoint after each
/// commit — only over ranges that were compared to the end, so a resumed run redoes at most
/// the range it was in.
final class SyncSink: ScanSink {
    let collection: String
    let partition: Int
    let writer: SyncWriter?
    let prune: Bool
    let dryRun: Bool
    let progress: SyncProgress
    let keeper: CheckpointKeeper
    let commitInterval: Duration

    /// Counts of the range being compared, and of compared ranges not yet committed.
    private var current = CollectionCounters()
    private var completed = CollectionCounters()
    private var completedBound: DocumentID?
    /// The bound below which everything is committed.
    private(set) var committedBound: DocumentID?
    private(set) var commits = 0
    private let clock = ContinuousClock()
    private var lastCommit: ContinuousClock.Instant

    init(collection: String, partition: Int, writer: SyncWriter?, prune: Bool, dryRun: Bool, progress: SyncProgress,
         keeper: CheckpointKeeper, commitInterval: Duration) {
        self.collection = collection
        self.partition = partition
        self.writer = writer
        self.prune = prune
        self.dryRun = dryRun
        self.progress = progress
        self.keeper = keeper
        self.commitInterval = commitInterval
        lastCommit = clock.now
    }

    func missing(_ id: DocumentID?, local: BSONDocument?, emptyRange: Bool) async throws {
        current.missing += 1
        guard let local else { return }
        // Into a range Atlas holds nothing of, an insert does (an upsert if it meets a
        // document written meanwhile: see SyncWriter).
        if emptyRange {
            try await write(.insert(local))
        } else if let id {
            try await write(.upsert(filter: id.filter, document: local))
        }
    }

    func different(_ id: DocumentID, local: BSONDocument?) async throws {
        current.different += 1
        if let local { try await write(.upsert(filter: id.filter, document: local)) }
    }

    func extra(_ id: DocumentID) async throws {
        current.extra += 1
        if prune { try await write(.deleteOne(filter: id.filter)) }
    }

    func rangeDone(upper: DocumentID?, scanned: Int, equal: Int, atlasDocuments: Int) async throws {
        current.scanned += scanned
        current.equal += equal
        current.atlasDocuments += atlasDocuments
        completed.add(current)
        current = CollectionCounters()
        // The end of the last partition (nil) is marked by `finish`, never as a bound.
        if let upper { completedBound = upper }
        if (writer?.pendingCount ?? 0) >= (writer?.limits.maxCount ?? .max) || clock.now - lastCommit >= commitInterval {
            try await commit()
        }
    }

    private func write(_ operation: WriteOperation) async throws {
        guard let writer else { return }
        if writer.mustCommit(before: operation) { try await commit() }
        try await writer.add(operation)
    }

    /// Sends the pending writes and records what is now committed.
    func commit() async throws {
        var counters = completed
        var firstError: String?
        if let writer {
            let result = try await writer.commit()
            counters.inserted = result.upserted + result.inserted
            counters.replaced = result.matched
            counters.deleted = result.deleted
            counters.writeErrors = result.writeErrors.count
            firstError = result.writeErrors.first.map { "Atlas refused a write (code \($0.code)): \($0.message)" }
        } else if dryRun {
            counters.inserted = completed.missing
            counters.replaced = completed.different
            counters.deleted = prune ? completed.extra : 0
        }
        progress.record(collection, counters, writeError: firstError)
        completed = CollectionCounters()
        committedBound = completedBound
        try await keeper.advance(partition, to: completedBound)
        commits += 1
        lastCommit = clock.now
    }

    /// Commits the rest and marks the partition done.
    func finish() async throws {
        try await commit()
        try await keeper.finish(partition)
    }

    /// Forgets everything not committed (before a retry from `committedBound`).
    func discardPending() {
        writer?.discardPending()
        current = CollectionCounters()
        completed = CollectionCounters()
        completedBound = committedBound
    }
}
