/// Re-reads the documents a scan found different, from both sides, to tell a real difference
/// from a write that was simply in flight (migration-verifier's recheck idea).
///
/// Each round waits `recheckDelay`, then reads each batch of `_id`s from local, from Atlas,
/// and from local again. Equal now: resolved. Local changed between its two reads: the
/// document is being written right now, so it goes to the next round unjudged. Otherwise it
/// still differs and goes to the next round. After `recheckRounds` rounds, what still differs
/// is a confirmed difference; what was still changing is counted as `changing`, not reported.
struct Rechecker: Sendable {
    let local: MongoConnection
    let atlas: MongoConnection
    let localDatabase: String
    let atlasDatabase: String
    let options: VerifyOptions

    struct Outcome {
        var confirmed: IDQueue
        var missing = 0
        var extra = 0
        var different = 0
        var changing = 0
        var samples: [ConsistencyReport.Sample] = []
    }

    func confirm(_ candidates: IDQueue, collection: String, spill: String) async throws -> Outcome {
        var current = candidates
        var owned: IDQueue?
        defer { owned?.close() }
        let rounds = max(1, options.recheckRounds)
        for round in 1...rounds {
            try await Task.sleep(for: options.recheckDelay)
            let last = round == rounds
            let next = IDQueue(spillPath: "\(spill)-round\(round)", memoryLimit: options.memoryIDs)
            var outcome = Outcome(confirmed: next)
            try await current.forEachBatch(of: options.recheckBatch) { batch in
                let (before, inAtlas, after) = try await read(batch, collection: collection)
                for id in batch {
                    let first = before[id]
                    let atlasCopy = inAtlas[id]
                    let second = after[id]
                    if first == atlasCopy || second == atlasCopy { continue }  // equal now
                    if first != second {
                        // Being written right now: judge it in the next round.
                        if last { outcome.changing += 1 } else { try next.append(id) }
                        continue
                    }
                    try next.append(id)
                    guard last else { continue }
                    let kind: ConsistencyReport.Kind =
                        second == nil ? .extraInAtlas : atlasCopy == nil ? .missingInAtlas : .different
                    switch kind {
                    case .missingInAtlas: outcome.missing += 1
                    case .extraInAtlas: outcome.extra += 1
                    case .different: outcome.different += 1
                    }
                    if outcome.samples.count < options.show {
                        let fields = (second != nil && atlasCopy != nil)
                            ? DocumentDiff.differences(local: second!, atlas: atlasCopy!, values: options.showValues) : []
                        outcome.samples.append(.init(id: id.description, kind: kind, fields: fields))
                    }
                }
            }
            owned?.close()
            owned = next
            current = next
            if last || next.isEmpty {
                owned = nil  // handed to the caller in the outcome
                return outcome
            }
        }
        preconditionFailure("the last round returns")
    }

    /// Reads a batch from local, Atlas and local again, keyed by exact `_id` bytes.
    private func read(_ ids: [DocumentID], collection: String) async throws
        -> ([DocumentID: BSONDocument], [DocumentID: BSONDocument], [DocumentID: BSONDocument])
    {
        let filter = DocumentID.inFilter(ids)
        let before = try await fetch(local, localDatabase, collection, filter)
        let inAtlas = try await fetch(atlas, atlasDatabase, collection, filter)
        let after = try await fetch(local, localDatabase, collection, filter)
        return (before, inAtlas, after)
    }

    private func fetch(_ connection: MongoConnection, _ database: String, _ collection: String, _ filter: BSONDocument)
        async throws -> [DocumentID: BSONDocument]
    {
        try await options.retry.run("re-reading \(collection)") {
            try await connection.withFind(database: database, collection: collection, options: FindOptions(filter: filter)) {
                stream in
                var found: [DocumentID: BSONDocument] = [:]
                while let batch = try await stream.next() {
                    for document in batch {
                        if let id = DocumentID(of: document) { found[id] = document }
                    }
                }
                return found
            }
        }
    }

    /// Copies exactly the confirmed differences to Atlas — the local document upserted by
    /// `_id`, or the Atlas document deleted when local has none — then checks them once more.
    /// Returns the documents written and the differences left.
    func repair(_ confirmed: IDQueue, collection: String) async throws -> (written: Int, remaining: Int) {
        let writer = SyncWriter(connection: atlas, database: atlasDatabase, collection: collection,
                                limits: options.syncOptions.bulkLimits)
        var written = 0
        try await confirmed.forEachBatch(of: options.recheckBatch) { batch in
            let current = try await fetch(local, localDatabase, collection, DocumentID.inFilter(batch))
            for id in batch {
                let operation: WriteOperation =
                    current[id].map { .upsert(filter: id.filter, document: $0) } ?? .deleteOne(filter: id.filter)
                if writer.mustCommit(before: operation) { written += try await commit(writer, collection: collection) }
                try await writer.add(operation)
            }
        }
        written += try await commit(writer, collection: collection)
        var remaining = 0
        try await confirmed.forEachBatch(of: options.recheckBatch) { batch in
            let (before, inAtlas, after) = try await read(batch, collection: collection)
            remaining += batch.filter { id in before[id] != inAtlas[id] && after[id] != inAtlas[id] }.count
        }
        return (written, remaining)
    }

    private func commit(_ writer: SyncWriter, collection: String) async throws -> Int {
        let result = try await options.retry.run("repairing") { try await writer.commit() }
        if let error = result.writeErrors.first {
            throw MongoError(kind: .unexpected, reason: .command,
                             message: "atlas: refused a repair write in \(collection) (code \(error.code)): \(error.message)", code: error.code)
        }
        return result.upserted + result.inserted + result.matched + result.deleted
    }
}
