import Foundation
import Testing

@testable import SyncCore
import SyncTestSupport

@Suite(.enabled(if: TestServers.available, "needs SYNCCTL_TEST_LOCAL_URI and SYNCCTL_TEST_ATLAS_URI"))
struct FullSyncTests {
    @Test func fullSyncCopiesEveryTypeEveryIDKindOddNamesAndEmptyCollectionsByteForByte() async throws {
        try await withSyncPair("fs-types") { pair in
            try await pair.insert([try BSONDocument(extendedJSON: BSONSamples.everyTypeJSON)], into: "types", on: pair.local)
            try await pair.insert(documentsOfEveryIDKind().shuffled(), into: "mixed ids", on: pair.local)
            for name in ["with.dots", "ünïcødé", "order"] {
                try await pair.insert((0..<30).map { ["_id": .int32(Int32($0)), "name": .string(name)] }, into: name, on: pair.local)
            }
            _ = try await pair.run(["create": "empty", "validator": .document(["_id": .document(["$exists": true])])], on: pair.local)
            try await pair.local.createIndexes(
                [["key": .document(["name": 1, "_id": -1]), "name": "idx_name", "unique": true]],
                database: pair.database, collection: "order")

            // Small partitions: ranges cross from one BSON type to the next.
            let report = try await pair.fullSync { $0.partitionDocuments = 3; $0.chunkDocuments = 4; $0.workers = 3 }.run()

            let local = try await pair.snapshot(of: pair.local)
            let atlas = try await pair.snapshot(of: pair.atlas)
            #expect(Set(atlas.keys) == ["types", "mixed ids", "with.dots", "ünïcødé", "order", "empty"])
            for (name, snapshot) in local {
                #expect(atlas[name] == snapshot, "collection \(name) differs")
            }
            #expect(report.collections.allSatisfy { $0.status == .synced && $0.created })
            #expect(report.documentsWritten == 1 + everyIDKind.count + 90)
            let verified = try await pair.verify().run()
            #expect(verified.consistent)
            #expect(verified.differences == 0)
        }
    }

    @Test func deltaSyncWritesOnlyTheDocumentsThatDiffer() async throws {
        try await withSyncPair("fs-delta") { pair in
            let documents: [BSONDocument] = (0..<3_000).map { ["_id": .int32(Int32($0)), "v": 1, "pad": .string(String(repeating: "x", count: 50))] }
            try await pair.insert(documents, into: "c", on: pair.local)
            let first = try await pair.fullSync { $0.partitionDocuments = 1_000 }.run()
            #expect(first.collections.first?.inserted == 3_000)

            // Changed locally, deleted locally, Atlas-only, reordered in Atlas.
            for id in stride(from: 0, to: 1_000, by: 100) {
                _ = try await pair.run(["update": "c", "updates": .array([.document(["q": .document(["_id": .int32(Int32(id))]), "u": .document(["$set": .document(["v": 2])])])])], on: pair.local)
            }
            for id in 2_000..<2_005 { try await pair.local.deleteOne(["_id": .int32(Int32(id))], database: pair.database, collection: "c") }
            try await pair.insert((0..<5).map { ["_id": .string("atlas-only-\($0)")] }, into: "c", on: pair.atlas)
            _ = try await pair.run(["update": "c", "updates": .array([.document(["q": .document(["_id": 2_500]), "u": .document(["_id": 2_500, "pad": .string(String(repeating: "x", count: 50)), "v": 1])])])], on: pair.atlas)
            // Missing in Atlas in the middle of a range, next to an unchanged document.
            for id in [1_500, 1_501, 1_503] { try await pair.atlas.deleteOne(["_id": .int32(Int32(id))], database: pair.database, collection: "c") }

            let second = try await pair.fullSync { $0.partitionDocuments = 1_000 }.run()
            let collection = try #require(second.collections.first)
            #expect(collection.scanned == 2_995)
            #expect(collection.replaced == 11)
            #expect(collection.inserted == 3)
            #expect(collection.deleted == 5 + 5)
            #expect(collection.equal == 2_995 - 11 - 3)
            #expect(try await pair.documents("c", on: pair.atlas) == pair.documents("c", on: pair.local))

            let third = try await pair.fullSync().run()
            #expect(third.documentsWritten == 0, "an unchanged database costs reads, not writes")
        }
    }

    @Test func deltaAcrossEveryIDKindFindsWhatIsMissingExtraAndChanged() async throws {
        try await withSyncPair("fs-delta-ids") { pair in
            try await pair.insert(documentsOfEveryIDKind(), into: "c", on: pair.local)
            _ = try await pair.fullSync().run()

            // Interleaved in BSON order: missing in Atlas, extra in Atlas (a number between
            // numbers, a string between strings, 2.0 where local has Int64 2), changed locally.
            for id: BSONValue in ["a", .objectID(ObjectID(hex: "507f1f77bcf86cd799439011")!), .int64(2)] {
                try await pair.atlas.deleteOne(["_id": id], database: pair.database, collection: "c")
            }
            try await pair.insert([["_id": .int32(4)], ["_id": "b"], ["_id": .double(2)]], into: "c", on: pair.atlas)
            _ = try await pair.run(["update": "c", "updates": .array([.document(["q": .document(["_id": true]), "u": .document(["$set": .document(["n": 99])])])])], on: pair.local)

            // Tiny ranges: the comparison crosses from one BSON type to the next, and the
            // Decimal128 and document `_id`s make it fall back to reading range by range.
            let report = try await pair.fullSync { $0.partitionDocuments = 3; $0.chunkDocuments = 4; $0.workers = 2 }.run()
            let collection = try #require(report.collections.first)
            #expect(collection.inserted == 3)
            #expect(collection.deleted == 3)
            #expect(collection.replaced == 1)
            #expect(collection.equal == everyIDKind.count - 4)
            #expect(try await pair.documents("c", on: pair.atlas) == pair.documents("c", on: pair.local))
        }
    }

    @Test func noPruneKeepsAtlasOnlyDocumentsAndDryRunChangesNothing() async throws {
        try await withSyncPair("fs-prune") { pair in
            try await pair.insert((0..<10).map { ["_id": .int32(Int32($0))] }, into: "c", on: pair.local)
            let dry = try await pair.fullSync { $0.dryRun = true }.run()
            #expect(dry.collections.first?.inserted == 10)
            #expect(dry.collections.first?.created == true)
            #expect(try await pair.atlas.collections(in: pair.database).isEmpty, "a dry run writes nothing")

            try await pair.insert([["_id": "only-in-atlas"]], into: "c", on: pair.atlas)
            let kept = try await pair.fullSync { $0.prune = false }.run()
            #expect(kept.collections.first?.keptInAtlas == 1)
            #expect(try await pair.atlas.countDocuments(database: pair.database, collection: "c") == 11)
            let pruned = try await pair.fullSync().run()
            #expect(pruned.collections.first?.deleted == 1)
            #expect(try await pair.atlas.countDocuments(database: pair.database, collection: "c") == 10)
        }
    }

    @Test(.exclusiveFailPoints) func excludedCollectionsAreUntouchedAndLocalIsOnlyRead() async throws {
        let appName = "fs-readonly-\(UInt32.random(in: 0...UInt32.max))"
        try await withSyncPair("fs-readonly", appName: appName) { pair in
            try await pair.insert((0..<50).map { ["_id": .int32(Int32($0)), "v": 1] }, into: "kept", on: pair.local)
            try await pair.insert((0..<5).map { ["_id": .int32(Int32($0)), "secret": true] }, into: "sessions", on: pair.local)
            try await pair.insert([["_id": "atlas", "mine": true]], into: "bills", on: pair.atlas)
            try await pair.insert([["_id": 1, "local": true]], into: "bills", on: pair.local)
            let localBefore = try await pair.snapshot(of: pair.local)
            let atlasBills = try await pair.documents("bills", on: pair.atlas)
            // Any write syncctl sent to local would fail the run.
            try await failPoint(pair.local, appName: appName,
                                commands: ["insert", "update", "delete", "findAndModify", "create", "createIndexes", "drop", "dropIndexes", "dropDatabase"],
                                mode: "alwaysOn", errorCode: 13)
            do {
                let report = try await pair.fullSync { $0.excluded = ["sessions", "bills"] }.run()
                #expect(report.collections.map(\.status) == [.excluded, .synced, .excluded])
            } catch {
                try await failPoint(pair.local, appName: appName, commands: [], mode: "off")
                throw error
            }
            try await failPoint(pair.local, appName: appName, commands: [], mode: "off")
            #expect(try await pair.snapshot(of: pair.local) == localBefore)
            #expect(try await pair.documents("bills", on: pair.atlas) == atlasBills)
            #expect(try await pair.atlas.collections(in: pair.database).map(\.name).sorted() == ["bills", "kept"])
        }
    }

    @Test(.exclusiveFailPoints) func connectionClosedByAtlasMidSyncIsRetriedAndEndsConsistent() async throws {
        let appName = "fs-close-\(UInt32.random(in: 0...UInt32.max))"
        try await withSyncPair("fs-close", appName: appName) { pair in
            try await pair.insert((0..<5_000).map { ["_id": .int32(Int32($0)), "v": 1] }, into: "c", on: pair.local)
            // A straight copy first (inserts), then a compare-and-fix run (finds, upserts).
            try await failPoint(pair.atlas, appName: appName, commands: ["insert"], mode: .document(["times": 3]), closeConnection: true)
            let report = try await pair.fullSync { $0.partitionDocuments = 2_000 }.run()
            #expect(report.collections.first?.inserted == 5_000)
            #expect(try await pair.documents("c", on: pair.atlas) == pair.documents("c", on: pair.local))

            for id in stride(from: 0, to: 5_000, by: 50) {
                try await pair.atlas.deleteOne(["_id": .int32(Int32(id))], database: pair.database, collection: "c")
            }
            try await failPoint(pair.atlas, appName: appName, commands: ["find", "update"], mode: .document(["times": 4]), closeConnection: true)
            let again = try await pair.fullSync { $0.partitionDocuments = 2_000 }.run()
            #expect(again.collections.first?.inserted == 100)
            #expect(try await pair.documents("c", on: pair.atlas) == pair.documents("c", on: pair.local))
            // The failpoints were used up by the syncs: the next command of that client goes through.
            let probe = try TestServers.connection(.atlas, appName: appName)
            defer { probe.close() }
            try await probe.insert([["_id": "probe"]], database: pair.database, collection: "probe")
            _ = try await probe.runCommand(["find": "probe"], database: pair.database)
        }
    }

    @Test func equalIDsOfDifferentNumericTypesEndWithLocalsExactID() async throws {
        try await withSyncPair("fs-numeric-id") { pair in
            try await pair.insert([["_id": .int32(1), "v": "local"], ["_id": .int64(2), "v": "local"]], into: "c", on: pair.local)
            try await pair.insert([["_id": .double(1), "v": "atlas"], ["_id": .int32(2), "v": "atlas"]], into: "c", on: pair.atlas)
            _ = try await pair.fullSync().run()
            #expect(try await pair.documents("c", on: pair.atlas) == pair.documents("c", on: pair.local))
        }
    }

    @Test func interruptedSyncResumesFromItsCheckpointInsteadOfStartingOver() async throws {
        try await withSyncPair("fs-resume") { pair in
            let documents: [BSONDocument] = (0..<20_000).map { ["_id": .int32(Int32($0)), "pad": .string(String(repeating: "r", count: 100))] }
            try await pair.insert(documents, into: "c", on: pair.local)
            let state = StateDirectory(path: FileManager.default.temporaryDirectory.appendingPathComponent("syncctl-resume-\(UUID().uuidString)").path)
            defer { try? FileManager.default.removeItem(atPath: state.path) }
            let file = CheckpointFile(state: state)
            let sync = pair.fullSync({ $0.workers = 1 }, checkpoint: file)
            let task = Task { try await sync.run() }
            // Stop it once a batch is committed beyond the start.
            while !(file.load()?.partitions.contains { $0.resumeFrom != nil } ?? false) {
                try await Task.sleep(for: .milliseconds(10))
            }
            task.cancel()
            await #expect(throws: CancellationError.self) { try await task.value }
            let saved = try #require(file.load())

            let resumed = try await pair.fullSync({ $0.workers = 1 }, checkpoint: file).run()
            #expect(resumed.resumed != nil)
            #expect(try #require(resumed.collections.first).scanned < 20_000)
            #expect(saved.partitions.count == 1)
            #expect(file.load() == nil, "a finished run removes its checkpoint")
            #expect(try await pair.documents("c", on: pair.atlas) == pair.documents("c", on: pair.local))
        }
    }

    @Test func unreachableAtlasFailsAsUnreachableAfterTheRetries() async throws {
        let database = TestServers.uniqueDatabase("fs-unreachable")
        let settings = try Settings.resolve(
            flags: [.localURI: TestServers.uri(.local, database: database),
                    .atlasURI: "mongodb://127.0.0.1:\(FaultyEndpoints.closedPort())/\(database)"],
            environment: [:], file: nil)
        var pool = PoolOptions()
        pool.serverSelectionTimeoutMS = 300
        pool.connectTimeoutMS = 300
        pool.overrideTimeouts = true
        let connections = try DualConnection(settings: settings, options: pool)
        defer { connections.close() }
        var options = FullSyncOptions()
        options.retry = TransientRetry(maxRetries: 1, backoff: RetryPolicy(initial: .milliseconds(10), maximum: .milliseconds(10)))
        let error = await #expect(throws: MongoError.self) {
            try await FullSync(connections: connections, options: options, checkpointFile: nil).run()
        }
        #expect(error?.kind == .unreachable)
    }
}

extension FullSyncTests {
    /// Atlas read as one cursor cut at local's range bounds must find exactly what range
    /// queries find, across every `_id` type it orders itself (and fall back where it cannot).
    @Test(arguments: [false, true])
    func atlasReadInOneCursorFindsExactlyTheDifferences(withUnorderableIDs: Bool) async throws {
        try await withSyncPair("fs-cursor") { pair in
            var ids: [BSONValue] = [.minKey, .null, .maxKey, .bool(false), .bool(true)]
            for n in 0..<60 {
                ids += [.int32(Int32(n * 3)), .int64(Int64(n * 3 + 1)), .double(Double(n) * 3 + 2.5), .string("s\(n)"),
                        .objectID(ObjectID(hex: String(format: "%024x", n * 7 + 1))!), .binary(subtype: 0, data: [UInt8(n)]),
                        .datetime(Int64(n) * 1_000 - 30_000), .timestamp(seconds: UInt32(n), increment: 1)]
            }
            if withUnorderableIDs { ids += [.decimal128(Decimal128("1000.5")!), .document(["k": 1])] }
            let local = ids.map { BSONDocument(pairs: [("_id", $0), ("v", 1)]) }
            try await pair.insert(local, into: "c", on: pair.local)
            // Atlas: every fifth missing, every seventh different, and extras of every type in between.
            var atlas: [BSONDocument] = []
            for (index, id) in ids.enumerated() where index % 5 != 0 {
                atlas.append(BSONDocument(pairs: [("_id", id), ("v", index % 7 == 0 ? 2 : 1)]))
            }
            let extras: [BSONValue] = [.int32(-1), .double(1.5), .string("s0-extra"), .binary(subtype: 0, data: [200, 1]),
                                       .objectID(ObjectID(hex: "ffffffffffffffffffffffff")!), .datetime(99_999_999)]
            atlas += extras.map { BSONDocument(pairs: [("_id", $0), ("extra", true)]) }
            try await pair.insert(atlas, into: "c", on: pair.atlas)
            let missing = ids.indices.filter { $0 % 5 == 0 }.count
            let different = ids.indices.filter { $0 % 5 != 0 && $0 % 7 == 0 }.count

            let verified = try await pair.verify { $0.chunkDocuments = 7 }.run()
            #expect(verified.collections.first?.missingInAtlas == missing)
            #expect(verified.collections.first?.different == different)
            #expect(verified.collections.first?.extraInAtlas == extras.count)

            let report = try await pair.fullSync { $0.chunkDocuments = 7 }.run()
            let collection = try #require(report.collections.first)
            #expect(collection.inserted == missing)
            #expect(collection.replaced == different)
            #expect(collection.deleted == extras.count)
            #expect(collection.equal == ids.count - missing - different)
            #expect(try await pair.documents("c", on: pair.atlas) == pair.documents("c", on: pair.local))
        }
    }
}
