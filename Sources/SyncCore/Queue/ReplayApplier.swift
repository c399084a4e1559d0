import Foundation

/// One document replay makes Atlas match local for: a collection and an `_id`, compared by
/// the `_id`'s exact BSON bytes (many queue entries for one document become one target).
public struct ReplayTarget: Sendable, Hashable {
    public let collection: String
    public let id: BSONValue
    /// `{_id: <id>}`: the target's identity.
    let key: BSONDocument

    public init(collection: String, id: BSONValue) {
        self.collection = collection
        self.id = id
        self.key = BSONDocument(pairs: [("_id", id)])
    }

    public static func == (lhs: ReplayTarget, rhs: ReplayTarget) -> Bool {
        lhs.collection == rhs.collection && lhs.key == rhs.key
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(collection)
        hasher.combine(key)
    }

    /// `{_id: {$eq: <id>}}`: explicit `$eq` so that a regular-expression `_id` is matched as
    /// a value, never as a pattern that could select another document.
    var filter: BSONDocument {
        BSONDocument(pairs: [("_id", .document(BSONDocument(pairs: [("$eq", id)])))])
    }
}

/// What replaying one target did.
public enum ReplayOutcome: Sendable {
    /// Local has the document; Atlas now holds the same bytes.
    case upserted
    /// Local no longer has it; Atlas no longer has it either.
    case deleted
    /// This document's write failed; the others in the batch are unaffected.
    case failed(MongoError)
}

/// A failure that concerns a whole batch: a server could not be reached or refused the
/// request as a whole. Transient ones are retried; others stop replay.
public struct ReplayServerError: ClassifiedError {
    public enum Side: String, Sendable {
        case local, atlas
    }

    public let side: Side
    public let underlying: MongoError
    /// The server's name for messages.
    public var server: String { side.rawValue }
    public var kind: FailureKind { underlying.kind }
    public var isTransient: Bool { underlying.isTransient }
    public var description: String { "\(server): \(underlying.message)" }

    public init(_ side: Side, _ underlying: MongoError) {
        self.side = side
        self.underlying = underlying
    }
}

/// Makes Atlas match local for a set of targets. The worker's one point of contact with the
/// servers: `MirrorApplier` in production; resilience-test's self-check swaps in a broken
/// one to prove its verdicts can fail.
public protocol ReplayApplier: Sendable {
    /// Per-target outcomes. Throws `ReplayServerError` when the batch as a whole failed.
    func apply(_ targets: [ReplayTarget]) async throws -> [ReplayTarget: ReplayOutcome]
}

/// Convergent replay: for each target, read the document's current local state and upsert
/// it into Atlas (replacing whatever is there), or delete it from Atlas when local no longer
/// has it. Doing this again, in any order, ends in the same state.
public struct MirrorApplier: ReplayApplier {
    public let local: MongoConnection
    public let atlas: MongoConnection
    public let localDatabase: String
    public let atlasDatabase: String

    public init(local: MongoConnection, atlas: MongoConnection, localDatabase: String, atlasDatabase: String) {
        self.local = local
        self.atlas = atlas
        self.localDatabase = localDatabase
        self.atlasDatabase = atlasDatabase
    }

    public init(connection: DualConnection) throws(MongoError) {
        self.init(local: connection.local, atlas: try connection.requireAtlas(),
                  localDatabase: connection.localDatabase, atlasDatabase: connection.atlasDatabase)
    }

    public func apply(_ targets: [ReplayTarget]) async throws -> [ReplayTarget: ReplayOutcome] {
        var outcomes: [ReplayTarget: ReplayOutcome] = [:]
        let byCollection = Dictionary(grouping: targets, by: \.collection)
        for collection in byCollection.keys.sorted() {
            let group = byCollection[collection]!
            let current = try await readLocal(group, collection: collection)
            let operations = group.map { target -> WriteOperation in
                guard let document = current[target] else { return .deleteOne(filter: target.filter) }
                let ownID = document["_id"].map { ReplayTarget(collection: collection, id: $0) } ?? target
                return .upsert(filter: ownID.filter, document: document)
            }
            for (target, outcome) in try await write(operations, for: group, collection: collection) {
                outcomes[target] = outcome
            }
        }
        return outcomes
    }

    /// The current local document of each target (absent: local has none).
    private func readLocal(_ targets: [ReplayTarget], collection: String) async throws -> [ReplayTarget: BSONDocument] {
        var found: [ReplayTarget: BSONDocument] = [:]
        var unclaimed = false
        // `$in` with a regular expression matches by pattern: those are looked up one by one.
        let plain = targets.filter { if case .regex = $0.id { false } else { true } }
        var lookUpAlone = targets.filter { if case .regex = $0.id { true } else { false } }
        if !plain.isEmpty {
            var options = FindOptions(filter: BSONDocument(pairs: [
                ("_id", .document(BSONDocument(pairs: [("$in", .array(plain.map(\.id)))]))),
            ]))
            options.batchSize = Int32(min(plain.count, 10_000))
            let wanted = Set(plain)
            do {
                try await local.withFind(database: localDatabase, collection: collection, options: options) { stream in
                    while let batch = try await stream.next(maxCount: 1_000) {
                        for document in batch {
                            guard let id = document["_id"] else { continue }
                            let target = ReplayTarget(collection: collection, id: id)
                            if wanted.contains(target) { found[target] = document } else { unclaimed = true }
                        }
                    }
                }
            } catch let error as MongoError {
                throw ReplayServerError(.local, error)
            }
            // MongoDB matches `_id: 1` with 1, 1L and 1.0 alike: a document found under
            // another BSON type of the same value means targets not found by bytes may still
            // exist locally. Only then are they looked up one by one.
            if unclaimed { lookUpAlone += plain.filter { found[$0] == nil } }
        }
        for target in lookUpAlone {
            var options = FindOptions(filter: target.filter)
            options.limit = 1
            do {
                let documents = try await local.withFind(database: localDatabase, collection: collection, options: options) {
                    try await $0.next(maxCount: 1)
                }
                if let document = documents?.first { found[target] = document }
            } catch let error as MongoError {
                throw ReplayServerError(.local, error)
            }
        }
        return found
    }

    /// Sends the writes as unordered bulks. A bulk refused as a whole for a reason retrying
    /// does not fix is split into single writes, so that one bad document fails alone.
    private func write(_ operations: [WriteOperation], for targets: [ReplayTarget], collection: String) async throws
        -> [(ReplayTarget, ReplayOutcome)]
    {
        do {
            return try await bulk(operations, for: targets, collection: collection)
        } catch let error as MongoError where !error.isTransient {
            if let only = targets.first, targets.count == 1 { return [(only, .failed(error))] }
            var results: [(ReplayTarget, ReplayOutcome)] = []
            for (operation, target) in zip(operations, targets) {
                do {
                    results += try await bulk([operation], for: [target], collection: collection)
                } catch let single as MongoError where !single.isTransient {
                    results.append((target, .failed(single)))
                } catch let single as MongoError {
                    throw ReplayServerError(.atlas, single)
                }
            }
            return results
        } catch let error as MongoError {
            throw ReplayServerError(.atlas, error)
        }
    }

    private func bulk(_ operations: [WriteOperation], for targets: [ReplayTarget], collection: String) async throws
        -> [(ReplayTarget, ReplayOutcome)]
    {
        let writer = BulkWriter(connection: atlas, database: atlasDatabase, collection: collection)
        var results: [(ReplayTarget, ReplayOutcome)] = []
        var inFlight: [(ReplayTarget, WriteOperation)] = []
        func settle(_ result: BulkWriteResult) {
            let failures = Dictionary(result.writeErrors.map { ($0.index, $0) }, uniquingKeysWith: { first, _ in first })
            for (index, (target, operation)) in inFlight.enumerated() {
                if let failure = failures[index] {
                    results.append((target, .failed(MongoError(kind: .unexpected, reason: .command,
                                                               message: "\(atlas.name): write error \(failure.code): \(failure.message)",
                                                               code: failure.code))))
                } else if case .deleteOne = operation {
                    results.append((target, .deleted))
                } else {
                    results.append((target, .upserted))
                }
            }
            inFlight.removeAll()
        }
        for (operation, target) in zip(operations, targets) {
            // `add` flushes what was pending before taking the new operation.
            if let flushed = try await writer.add(operation) { settle(flushed) }
            inFlight.append((target, operation))
        }
        settle(try await writer.flush())
        return results
    }
}
