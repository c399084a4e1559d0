import Foundation

/// How one collection of a backup compares with its source.
public struct CollectionComparison: Sendable, Encodable, Equatable {
    public let name: String
    public let sourceDocuments: Int64
    public let restoredDocuments: Int64
    /// Positions in `_id` order where the two documents' bytes differ.
    public let differentDocuments: Int64
    /// The `_id` (relaxed Extended JSON) of the first difference, if any.
    public let firstDifference: String?

    public var equal: Bool { sourceDocuments == restoredDocuments && differentDocuments == 0 }
}

/// Checks a backup: offline against its manifest, or by restoring it (`--verify`).
public enum BackupVerifier {
    /// Restores the backup at `directory` into a scratch database on `connection`, compares
    /// every collection with `sourceDatabase` document by document (raw bytes, in `_id`
    /// order), drops the scratch database whatever happens, and records the result in the
    /// backup's manifest.
    public static func verifyByRestoring(
        _ directory: String, connection: MongoConnection, sourceDatabase: String,
        progress: (@Sendable (RestoreProgress) -> Void)? = nil
    ) async throws -> (verification: BackupManifest.Verification, comparisons: [CollectionComparison]) {
        let input = try DumpInput.open(directory)
        guard var manifest = input.manifest else {
            throw BackupError(.badInput, "\(directory) has no manifest.json: --verify checks syncctl backups only", path: directory)
        }
        // The data files are checked against the manifest as they are restored; the rest here.
        for record in manifest.collections.map(\.metadata) + manifest.extraFiles {
            try input.verifyFile(record)
        }
        let scratch = "syncctl_verify_\(String(UInt32.random(in: 0...UInt32.max), radix: 16).leftPadded(to: 8))"
        let comparisons: [CollectionComparison]
        do {
            let plan = try await Restorer.plan(input: input, connection: connection, targetDatabase: scratch,
                                               sourceDatabase: manifest.database)
            _ = try await Restorer.run(plan, connection: connection, drop: false, progress: progress)
            var results: [CollectionComparison] = []
            for collection in manifest.collections where collection.type != "view" {
                results.append(try await compare(collection.name, source: sourceDatabase, restored: scratch, connection: connection))
            }
            comparisons = results
            try await connection.dropDatabase(scratch)
        } catch {
            try? await connection.dropDatabase(scratch)
            throw error
        }
        let verification = BackupManifest.Verification(
            verified: comparisons.allSatisfy(\.equal), time: Date(), scratchDatabase: scratch,
            collections: comparisons.count, documents: comparisons.reduce(0) { $0 + $1.restoredDocuments },
            differences: comparisons.filter { !$0.equal }.map(\.name))
        manifest.verification = verification
        try manifest.write(to: directory)
        return (verification, comparisons)
    }

    /// Reads both collections in `_id` order, side by side, one batch at a time.
    public static func compare(_ collection: String, source: String, restored: String, connection: MongoConnection) async throws
        -> CollectionComparison
    {
        try await connection.withFind(database: source, collection: collection, options: .byID()) { left in
            try await connection.withFind(database: restored, collection: collection, options: .byID()) { right in
                var leftBatch: ArraySlice<BSONDocument> = []
                var rightBatch: ArraySlice<BSONDocument> = []
                var leftDone = false
                var rightDone = false
                var counts: (left: Int64, right: Int64, different: Int64) = (0, 0, 0)
                var firstDifference: String?
                while true {
                    if leftBatch.isEmpty && !leftDone {
                        if let next = try await left.next() { leftBatch = next[...] } else { leftDone = true }
                    }
                    if rightBatch.isEmpty && !rightDone {
                        if let next = try await right.next() { rightBatch = next[...] } else { rightDone = true }
                    }
                    switch (leftBatch.popFirst(), rightBatch.popFirst()) {
                    case (nil, nil):
                        return CollectionComparison(
                            name: collection, sourceDocuments: counts.left, restoredDocuments: counts.right,
                            differentDocuments: counts.different, firstDifference: firstDifference)
                    case (let a?, let b?):
                        counts.left += 1
                        counts.right += 1
                        if a != b {
                            counts.different += 1
                            if firstDifference == nil { firstDifference = a["_id"].map { BSONDocument(pairs: [("_id", $0)]).relaxedExtendedJSON } }
                        }
                    case (let a?, nil):
                        counts.left += 1
                        if firstDifference == nil { firstDifference = a["_id"].map { BSONDocument(pairs: [("_id", $0)]).relaxedExtendedJSON } }
                    case (nil, let b?):
                        counts.right += 1
                        if firstDifference == nil { firstDifference = b["_id"].map { BSONDocument(pairs: [("_id", $0)]).relaxedExtendedJSON } }
                    }
                }
            }
        }
    }
}
