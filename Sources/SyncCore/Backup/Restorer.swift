import Foundation

/// What a restore did.
public struct RestoreResult: Sendable, Encodable {
    public struct RestoredCollection: Sendable, Encodable {
        public let name: String
        public let documents: Int64
        public let dataBytes: Int64
        /// Indexes the collection has now, `_id_` included.
        public let indexes: Int
    }

    public let targetDatabase: String
    public let collections: [RestoredCollection]
    /// Collections that held documents and were dropped first.
    public let dropped: [String]
    public var documents: Int64 { collections.reduce(0) { $0 + $1.documents } }
    public var dataBytes: Int64 { collections.reduce(0) { $0 + $1.dataBytes } }
}

/// Progress of a restore, for a front end to show.
public enum RestoreProgress: Sendable {
    case collectionStarted(String)
    case documents(collection: String, count: Int64)
    case collectionFinished(String, documents: Int64)
}

/// Restores a dump into a database: collections with their options, every index with its
/// name and options, then the documents in unordered bulk inserts, streamed from the dump.
public enum Restorer {
    /// Decides what a restore would do, restoring into `targetDatabase`. The dump's database
    /// is `sourceDatabase`, else its only one, else the one named like the target.
    public static func plan(
        input: DumpInput, connection: MongoConnection, targetDatabase target: String, sourceDatabase: String? = nil,
        collections names: [String]? = nil, state: StateDirectory? = nil
    ) async throws -> RestorePlan {
        let databases = input.databases
        let source: String
        if let sourceDatabase, databases.contains(sourceDatabase) {
            source = sourceDatabase
        } else if sourceDatabase == nil && databases.count == 1 {
            source = databases[0]
        } else if sourceDatabase == nil && databases.contains(target) {
            source = target
        } else {
            throw BackupError(.badInput, "\(input.path) holds the databases \(databases.joined(separator: ", ")), none of them '\(sourceDatabase ?? target)': give the directory of the one to restore (\(input.path)/<db>)")
        }
        let selected = try input.collections(of: source, named: names)
        let checkpoint = state.flatMap { RestoreCheckpoint.load(from: $0, database: target) }
        let resuming = checkpoint.flatMap { $0.source == absolutePath(input.path) ? $0 : nil }
        let existing = Dictionary(try await connection.collections(in: target).map { ($0.name, $0) }) { first, _ in first }
        var targets: [RestoreTarget] = []
        for collection in selected {
            var count: Int64?
            if existing[collection.name] != nil {
                count = try await connection.countDocuments(database: target, collection: collection.name)
            }
            let action: RestoreTarget.Action =
                switch count {
                case nil: .create
                case 0: .replaceEmpty
                default: resuming?.collections.contains(collection.name) == true ? .resume : .drop
                }
            targets.append(RestoreTarget(
                name: collection.name, type: collection.metadata.type, action: action, existingDocuments: count,
                backupDocuments: collection.expectedDocuments, indexes: collection.metadata.indexesToCreate.count))
        }
        return RestorePlan(input: input, sourceDatabase: source, targetDatabase: target, collections: selected,
                           targets: targets, resuming: resuming?.startedAt)
    }

    /// Carries out a plan. Collections holding documents are dropped only when `drop` is
    /// true (the front end asked for confirmation); otherwise the restore refuses before
    /// changing anything, so there is never a silent partial restore.
    public static func run(
        _ plan: RestorePlan, connection: MongoConnection, drop: Bool, state: StateDirectory? = nil,
        progress: (@Sendable (RestoreProgress) -> Void)? = nil
    ) async throws -> RestoreResult {
        let blocked = plan.nonEmptyTargets
        if !blocked.isEmpty && !drop {
            let list = blocked.map { "\($0.name) (\($0.existingDocuments ?? 0) documents)" }.joined(separator: ", ")
            throw BackupError(.cannotWrite, "'\(plan.targetDatabase)' already has documents in \(list): nothing was restored; add --drop to replace them, or restore elsewhere with --to-db NAME")
        }
        let database = plan.targetDatabase
        if let state {
            try RestoreCheckpoint(source: absolutePath(plan.input.path), targetDatabase: database,
                                  collections: plan.targets.map(\.name), startedAt: plan.resuming ?? Date()).save(in: state)
        }
        var dropped: [String] = []
        // Collections first, with their options and indexes, so documents meet the same
        // unique constraints they had.
        for (collection, target) in zip(plan.collections, plan.targets) {
            if target.action != .create {
                try await connection.dropCollection(collection.name, database: database)
                if target.action == .drop || target.action == .resume { dropped.append(collection.name) }
            }
            try await connection.createCollection(collection.name, options: collection.metadata.options, database: database)
            if collection.metadata.type != "view" {
                try await connection.createIndexes(collection.metadata.indexesToCreate, database: database, collection: collection.name)
            }
        }
        let restored = try await insertDocuments(plan, connection: connection, progress: progress)
        if let state { RestoreCheckpoint.remove(from: state, database: database) }
        return RestoreResult(targetDatabase: database, collections: restored, dropped: dropped)
    }

    /// Streams the dump's documents into bulk inserts: one writer per collection (an archive
    /// interleaves them), each flushing at its count and byte limits.
    private static func insertDocuments(
        _ plan: RestorePlan, connection: MongoConnection, progress: (@Sendable (RestoreProgress) -> Void)?
    ) async throws -> [RestoreResult.RestoredCollection] {
        let limits = BulkLimits().clamped(toHello: try await connection.hello())
        let database = plan.targetDatabase
        let wanted = plan.collections.filter { $0.metadata.type != "view" }
        var writers: [String: BulkWriter] = [:]
        var read: [String: Int64] = [:]
        var finished: [String: (documents: Int64, bytes: Int64)] = [:]

        func check(_ result: BulkWriteResult?, _ collection: String) throws {
            guard let error = result?.writeErrors.first else { return }
            throw BackupError(.badInput, "restoring \(database).\(collection): the server refused a document (code \(error.code): \(error.message)); the backup and the target's indexes or validation rules disagree: nothing more was written")
        }

        try await plan.input.scan(database: plan.sourceDatabase, names: Set(wanted.map(\.name))) { event in
            switch event {
            case .document(_, let name, let document):
                let writer = writers[name] ?? {
                    progress?(.collectionStarted(name))
                    let created = BulkWriter(connection: connection, database: database, collection: name, limits: limits)
                    writers[name] = created
                    return created
                }()
                try check(try await writer.add(.insert(document)), name)
                let count = (read[name] ?? 0) + 1
                read[name] = count
                if count % 1_000 == 0 {
                    // Ctrl-C stops here; the checkpoint lets the same restore run again.
                    try Task.checkCancellation()
                    if count % 10_000 == 0 { progress?(.documents(collection: name, count: count)) }
                }
            case .finished(_, let name, let documents, let bytes):
                if let writer = writers[name] {
                    try check(try await writer.flush(), name)
                    guard writer.total.inserted == Int(documents) else {
                        throw BackupError(.unexpected, "restoring \(database).\(name): \(writer.total.inserted) of \(documents) documents were inserted")
                    }
                    writers[name] = nil
                } else {
                    progress?(.collectionStarted(name))
                }
                finished[name] = (documents, bytes)
                progress?(.collectionFinished(name, documents: documents))
                try Task.checkCancellation()
            }
        }
        return plan.collections.map { collection in
            let done = finished[collection.name] ?? (0, 0)
            return RestoreResult.RestoredCollection(
                name: collection.name, documents: done.documents, dataBytes: done.bytes,
                indexes: collection.metadata.type == "view" ? 0 : collection.metadata.indexesToCreate.count + 1)
        }
    }

    /// How the checkpoint names a backup: "b", "./b/" and its absolute path are one backup.
    static func absolutePath(_ path: String) -> String {
        PathParts.canonical(path)
    }
}
