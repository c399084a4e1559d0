import Crypto
import Foundation
import SyncTestSupport
import Testing

@testable import SyncCore


private func temporaryDirectory(_ label: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("syncctl-\(label)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Every document of a collection in `_id` order, as raw bytes.
private func documentsByID(_ connection: MongoConnection, _ database: String, _ collection: String) async throws -> [BSONDocument] {
    try await connection.withFind(database: database, collection: collection, options: .byID()) { stream in
        var all: [BSONDocument] = []
        while let batch = try await stream.next() { all += batch }
        return all
    }
}

private func sha256(_ documents: [BSONDocument]) -> String {
    var hasher = SHA256()
    for document in documents { hasher.update(data: document.bytes) }
    return hasher.finalize().map { String($0, radix: 16).leftPadded(to: 2) }.joined()
}

private func gunzip(_ path: String) throws -> [UInt8] {
    let source = try GzipByteSource(try FileByteSource(path: path))
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 << 10)
    while true {
        let count = try chunk.withUnsafeMutableBytes { raw in Result { () throws(BackupError) in try source.read(into: raw) } }.get()
        if count == 0 { return result }
        result += chunk[0..<count]
    }
}

private func restore(_ path: String, into database: String, _ connection: MongoConnection, drop: Bool = false,
                     state: StateDirectory? = nil) async throws -> RestoreResult {
    let input = try DumpInput.open(path)
    _ = try await input.check()
    let plan = try await Restorer.plan(input: input, connection: connection, targetDatabase: database, state: state)
    return try await Restorer.run(plan, connection: connection, drop: drop, state: state)
}

private func backup(_ connection: MongoConnection, _ database: String, to directory: String, gzip: Bool = false,
                    collections: [String]? = nil) async throws -> BackupManifest {
    try await BackupWriter.write(
        BackupRequest(database: database, directory: directory, gzip: gzip, collections: collections, toolVersion: "test",
                      source: connection.redactedURI),
        connection: connection)
}

@Suite(.enabled(if: TestServers.available, "needs SYNCCTL_TEST_LOCAL_URI and SYNCCTL_TEST_ATLAS_URI"))
struct BackupRestoreTests {
    @Test(arguments: [false, true])
    func everyTypeHugeDocumentsOddNamesAndEmptyCollectionsRoundTripByteExactly(gzip: Bool) async throws {
        try await withScratchDatabase(.local, "rt") { connection, database in
            let typed = try BSONDocument(extendedJSON: BSONSamples.everyTypeJSON)
            // Just under 16 MiB with its _id and field name.
            let huge = BSONDocument(pairs: [("_id", .int32(1)), ("blob", .binary(subtype: 0, data: [UInt8](repeating: 0xAB, count: (16 << 20) - 64)))])
            let ids: [BSONValue] = [
                .objectID(ObjectID(hex: "507f1f77bcf86cd799439011")!), .int32(3), .int64(2), .double(2.5), .string("a"),
                .binary(subtype: 0, data: [1, 2]), .document(["k": 1]),
            ]
            let writer = BulkWriter(connection: connection, database: database, collection: "types")
            try await writer.add(.insert(typed))
            try await writer.flush()
            let big = BulkWriter(connection: connection, database: database, collection: "huge")
            try await big.add(.insert(huge))
            try await big.flush()
            for name in ["with.dots", "with space", "ünïcødé", "order"] {
                let odd = BulkWriter(connection: connection, database: database, collection: name)
                for (index, id) in ids.enumerated() { try await odd.add(.insert(["_id": id, "n": .int32(Int32(index)), "name": .string(name)])) }
                try await odd.flush()
            }
            try await connection.createCollection("empty", options: .empty, database: database)
            try await connection.createIndexes(
                [["key": .document(["name": 1, "n": -1]), "name": "name_n", "unique": true]], database: database, collection: "order")

            let directory = "\(try temporaryDirectory("rt"))/backup"
            let manifest = try await backup(connection, database, to: directory, gzip: gzip)
            #expect(Set(manifest.collections.map(\.name)) == ["types", "huge", "with.dots", "with space", "ünïcødé", "order", "empty"])
            #expect(FileManager.default.fileExists(atPath: "\(directory)/\(database)/with%20space.bson\(gzip ? ".gz" : "")"))

            try await withScratchDatabase(.local, "rt2") { restoredConnection, restored in
                let result = try await restore(directory, into: restored, restoredConnection)
                #expect(result.documents == manifest.documents)
                for collection in manifest.collections {
                    let source = try await documentsByID(connection, database, collection.name)
                    let copy = try await documentsByID(restoredConnection, restored, collection.name)
                    #expect(copy.map(\.bytes) == source.map(\.bytes), "\(collection.name)")
                }
                #expect(try await restoredConnection.collections(in: restored).contains { $0.name == "empty" })
                let indexes = try await restoredConnection.indexes(database: restored, collection: "order")
                let unique = try #require(indexes.first { $0["name"]?.stringValue == "name_n" })
                #expect(unique["unique"] == .bool(true))
                #expect(unique["key"] == .document(["name": 1, "n": -1]))
            }
        }
    }

    @Test(arguments: ["dump-dir", "dump-gzip", "bomba.archive", "gzipped archive"])
    func eachFixtureRestoresWithTheCountsAndDigestsOfExpectedJSON(_ layout: String) async throws {
        var path = "\(DumpFixture.root)/\(layout)"
        if layout == "gzipped archive" {
            let directory = try temporaryDirectory("gzarchive")
            let writer = try DumpFileWriter(root: directory, path: "bomba.archive.gz", gzip: true)
            try writer.write(Array(try Data(contentsOf: URL(fileURLWithPath: "\(DumpFixture.root)/bomba.archive"))))
            _ = try writer.finish()
            path = "\(directory)/bomba.archive.gz"
        }
        try await withScratchDatabase(.local, "fixture") { connection, database in
            let result = try await restore(path, into: database, connection)
            #expect(result.documents == 1670)
            for (name, expected) in try DumpFixture.expected() {
                let documents = try await documentsByID(connection, database, name)
                #expect(Int64(documents.count) == expected.count, "\(layout) \(name)")
                #expect(sha256(documents) == expected.sha256, "\(layout) \(name)")
            }
            let users = try await connection.indexes(database: database, collection: "users")
            #expect(users.first { $0["name"]?.stringValue == "idx_users_email" }?["unique"] == .bool(true))
            let orders = try await connection.indexes(database: database, collection: "orders")
            #expect(orders.first { $0["name"]?.stringValue == "idx_orders_user_createdAt" }?["key"] == .document(["user": 1, "createdAt": 1]))
        }
    }

    @Test(arguments: [false, true])
    func backupOfTheRestoredFixtureIsWhatMongodumpWrote(gzip: Bool) async throws {
        try await withScratchDatabase(.local, "same") { connection, database in
            _ = try await restore("\(DumpFixture.root)/dump-dir", into: database, connection)
            let directory = "\(try temporaryDirectory("same"))/backup"
            _ = try await backup(connection, database, to: directory, gzip: gzip)
            let fixture = "\(DumpFixture.root)/\(gzip ? "dump-gzip" : "dump-dir")/bomba"
            let ours = "\(directory)/\(database)"
            // The same file names…
            #expect(Set(try FileManager.default.contentsOfDirectory(atPath: ours))
                == Set(try FileManager.default.contentsOfDirectory(atPath: fixture)))
            for name in DumpFixture.collections {
                // …the same BSON bytes (decompressed: two gzip encoders need not agree)…
                let bson = gzip ? "\(name).bson.gz" : "\(name).bson"
                let a = gzip ? try gunzip("\(ours)/\(bson)") : Array(try Data(contentsOf: URL(fileURLWithPath: "\(ours)/\(bson)")))
                let b = gzip ? try gunzip("\(fixture)/\(bson)") : Array(try Data(contentsOf: URL(fileURLWithPath: "\(fixture)/\(bson)")))
                #expect(a == b, "\(bson)")
                // …and the same metadata, key for key in the same order; our server reports a
                // UUID (a real one does too), which mongodump writes between indexes and
                // collectionName.
                let meta = gzip ? "\(name).metadata.json.gz" : "\(name).metadata.json"
                let ourText = String(decoding: gzip ? try gunzip("\(ours)/\(meta)") : Array(try Data(contentsOf: URL(fileURLWithPath: "\(ours)/\(meta)"))), as: UTF8.self)
                let theirText = String(decoding: gzip ? try gunzip("\(fixture)/\(meta)") : Array(try Data(contentsOf: URL(fileURLWithPath: "\(fixture)/\(meta)"))), as: UTF8.self)
                var parsed = try CollectionMetadata(json: ourText, fallbackName: name)
                #expect(try BSONDocument(extendedJSON: ourText).keys == ["indexes", "uuid", "collectionName", "type"])
                #expect(parsed.uuid?.count == 32)
                parsed.uuid = nil
                #expect(parsed.json == theirText, "\(meta)")
            }
        }
    }

    @Test func verifyRestoresComparesAndDropsTheScratchDatabase() async throws {
        try await withScratchDatabase(.local, "verify") { connection, database in
            _ = try await restore("\(DumpFixture.root)/bomba.archive", into: database, connection)
            let directory = "\(try temporaryDirectory("verify"))/backup"
            _ = try await backup(connection, database, to: directory)
            let (verification, comparisons) = try await BackupVerifier.verifyByRestoring(directory, connection: connection, sourceDatabase: database)
            #expect(verification.verified)
            #expect(verification.documents == 1670)
            #expect(comparisons.count == 5 && comparisons.allSatisfy(\.equal))
            #expect(!(try await connection.databaseNames()).contains(verification.scratchDatabase))
            let manifest = try #require(try BackupManifest.load(from: directory))
            #expect(manifest.verification?.verified == true)
        }
    }

    @Test func verifyReportsDocumentsChangedSinceTheBackup() async throws {
        try await withScratchDatabase(.local, "changed") { connection, database in
            _ = try await restore("\(DumpFixture.root)/dump-dir", into: database, connection)
            let directory = "\(try temporaryDirectory("changed"))/backup"
            _ = try await backup(connection, database, to: directory)
            let first = try #require(try await documentsByID(connection, database, "users").first)
            try await connection.deleteOne(["_id": first["_id"]!], database: database, collection: "users")
            try await connection.insert([first.appending("changed", true)], database: database, collection: "users")
            let (verification, comparisons) = try await BackupVerifier.verifyByRestoring(directory, connection: connection, sourceDatabase: database)
            #expect(!verification.verified)
            #expect(verification.differences == ["users"])
            let users = try #require(comparisons.first { $0.name == "users" })
            #expect(users.differentDocuments == 1 && users.sourceDocuments == 300)
            #expect(!(try await connection.databaseNames()).contains(verification.scratchDatabase))
            #expect(try BackupManifest.load(from: directory)?.verification?.verified == false)
        }
    }

    @Test func anEmptyDatabaseBacksUpVerifiesAndRestores() async throws {
        try await withScratchDatabase(.local, "emptydb") { connection, database in
            let directory = "\(try temporaryDirectory("emptydb"))/backup"
            let manifest = try await backup(connection, database, to: directory)
            #expect(manifest.collections.isEmpty)
            #expect(try DumpInput.open(directory).databases == [database])
            let (verification, _) = try await BackupVerifier.verifyByRestoring(directory, connection: connection, sourceDatabase: database)
            #expect(verification.verified && verification.collections == 0)
            let result = try await restore(directory, into: database + "_e", connection)
            #expect(result.collections.isEmpty)
        }
    }

    @Test func aDumpOfSeveralDatabasesRestoresTheOneNamedLikeTheTarget() async throws {
        try await withScratchDatabase(.local, "multi") { connection, database in
            let directory = try temporaryDirectory("multi")
            try FileManager.default.copyItem(atPath: "\(DumpFixture.root)/dump-dir/bomba", toPath: "\(directory)/\(database)")
            try FileManager.default.copyItem(atPath: "\(DumpFixture.root)/dump-dir/bomba", toPath: "\(directory)/other")
            let input = try DumpInput.open(directory)
            #expect(input.databases == [database, "other"].sorted())
            let plan = try await Restorer.plan(input: input, connection: connection, targetDatabase: database)
            #expect(plan.sourceDatabase == database)
            let error = await #expect(throws: BackupError.self) {
                try await Restorer.plan(input: input, connection: connection, targetDatabase: database + "_none")
            }
            #expect(error?.kind == .badInput)
        }
    }

    @Test func restoreRefusesATargetHoldingDocumentsAndChangesNothing() async throws {
        try await withScratchDatabase(.local, "refuse") { connection, database in
            try await connection.insert([["_id": 1, "mine": true]], database: database, collection: "users")
            let input = try DumpInput.open("\(DumpFixture.root)/dump-dir")
            let plan = try await Restorer.plan(input: input, connection: connection, targetDatabase: database)
            #expect(plan.nonEmptyTargets.map(\.name) == ["users"])
            let error = await #expect(throws: BackupError.self) {
                try await Restorer.run(plan, connection: connection, drop: false)
            }
            #expect(error?.kind == .cannotWrite)
            #expect(try await connection.countDocuments(database: database, collection: "users") == 1)
            #expect(try await connection.collections(in: database).map(\.name) == ["users"])
            // With --drop it replaces them.
            _ = try await Restorer.run(plan, connection: connection, drop: true)
            #expect(try await connection.countDocuments(database: database, collection: "users") == 300)
        }
    }

    @Test func aRestoreInterruptedHalfWayFinishesWhenRunAgain() async throws {
        try await withScratchDatabase(.local, "resume") { connection, database in
            let state = StateDirectory(path: try temporaryDirectory("resume-state"))
            let input = try DumpInput.open("\(DumpFixture.root)/dump-dir")
            let plan = try await Restorer.plan(input: input, connection: connection, targetDatabase: database, state: state)
            // Cancelled (as Ctrl-C does) once the first collection is in.
            let task = Task {
                try await Restorer.run(plan, connection: connection, drop: false, state: state) { event in
                    if case .collectionFinished = event { withUnsafeCurrentTask { $0?.cancel() } }
                }
            }
            await #expect(throws: CancellationError.self) { try await task.value }
            #expect(try await connection.countDocuments(database: database, collection: "bills") == 400)
            #expect(try await connection.countDocuments(database: database, collection: "users") == 0)

            // The same restore again, without --drop: the half-restored collections are its own.
            let again = try await Restorer.plan(input: input, connection: connection, targetDatabase: database, state: state)
            #expect(again.nonEmptyTargets.isEmpty)
            #expect(again.targets.first { $0.name == "bills" }?.action == .resume)
            #expect(again.resuming != nil)
            let result = try await Restorer.run(again, connection: connection, drop: false, state: state)
            #expect(result.documents == 1670)
            #expect(RestoreCheckpoint.load(from: state, database: database) == nil)

            // Another backup's checkpoint does not make these collections fair game.
            try RestoreCheckpoint(source: "/elsewhere", targetDatabase: database, collections: ["bills"], startedAt: Date()).save(in: state)
            let other = try await Restorer.plan(input: input, connection: connection, targetDatabase: database, state: state)
            #expect(other.nonEmptyTargets.count == 5)
        }
    }

    @Test func aDamagedBackupIsRefusedBeforeAnythingChanges() async throws {
        try await withScratchDatabase(.local, "damaged") { connection, database in
            _ = try await restore("\(DumpFixture.root)/dump-dir", into: database, connection)
            let directory = "\(try temporaryDirectory("damaged"))/backup"
            _ = try await backup(connection, database, to: directory)
            // A flipped byte inside a string is still well-formed BSON: only the SHA-256 sees it.
            let file = "\(directory)/\(database)/users.bson"
            var data = try Data(contentsOf: URL(fileURLWithPath: file))
            let position = try #require(data.range(of: Data("example.com".utf8))).lowerBound
            data[position] ^= 0x20
            try data.write(to: URL(fileURLWithPath: file))
            let error = await #expect(throws: BackupError.self) { try await DumpInput.open(directory).check() }
            #expect(error?.kind == .badInput)
            #expect(error?.message.contains("users.bson") == true)
            #expect(error?.message.contains("SHA-256") == true)
        }
    }

    @Test func keepRemovesTheOldestBackupsButNeverTheNewOneNorMongodumpOutput() async throws {
        try await withScratchDatabase(.local, "keep") { connection, database in
            try await connection.insert([["_id": 1]], database: database, collection: "c")
            let directory = try temporaryDirectory("keep")
            var paths: [String] = []
            for second in 0..<3 {
                let path = BackupCatalog.newBackupPath(in: directory, now: Date(timeIntervalSince1970: 1_780_000_000 + Double(second)))
                _ = try await backup(connection, database, to: path)
                paths.append(path)
            }
            try FileManager.default.copyItem(atPath: "\(DumpFixture.root)/dump-dir", toPath: "\(directory)/mongodump-copy")
            #expect(BackupCatalog.list(in: directory).count == 4)
            let removed = try BackupCatalog.prune(in: directory, keep: 1, protecting: paths[2])
            #expect(removed == [paths[0], paths[1]])
            #expect(BackupCatalog.list(in: directory).map(\.name).sorted() == [(paths[2] as NSString).lastPathComponent, "mongodump-copy"].sorted())
        }
    }

    @Test func anInterruptedBackupLeavesNothingThatLooksLikeABackup() async throws {
        try await withScratchDatabase(.local, "cut") { connection, database in
            for name in ["a", "b"] { try await connection.insert([["_id": 1]], database: database, collection: name) }
            let directory = try temporaryDirectory("cut")
            let path = "\(directory)/cut"
            let request = BackupRequest(database: database, directory: path, toolVersion: "test", source: "test")
            let task = Task {
                try await BackupWriter.write(request, connection: connection) { event in
                    if case .collectionFinished = event { withUnsafeCurrentTask { $0?.cancel() } }
                }
            }
            await #expect(throws: CancellationError.self) { try await task.value }
            #expect(!FileManager.default.fileExists(atPath: path))
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
            #expect(BackupCatalog.list(in: directory).isEmpty)
        }
    }

    @Test func onlyTheCollectionsAskedForAndNeverAnUnknownOne() async throws {
        try await withScratchDatabase(.local, "some") { connection, database in
            for name in ["a", "b"] { try await connection.insert([["_id": 1]], database: database, collection: name) }
            let directory = try temporaryDirectory("some")
            let manifest = try await backup(connection, database, to: "\(directory)/one", collections: ["b"])
            #expect(manifest.collections.map(\.name) == ["b"])
            let error = await #expect(throws: BackupError.self) {
                try await backup(connection, database, to: "\(directory)/two", collections: ["nope"])
            }
            #expect(error?.kind == .inputMissing)
            #expect(!FileManager.default.fileExists(atPath: "\(directory)/two"))
            let again = await #expect(throws: BackupError.self) { try await backup(connection, database, to: "\(directory)/one") }
            #expect(again?.kind == .cannotWrite)
        }
    }

    @Test func settingsFilesAreCopiedPrivatelyAndDirectoriesArePrivate() async throws {
        try await withScratchDatabase(.local, "modes") { connection, database in
            try await connection.insert([["_id": 1]], database: database, collection: "c")
            let directory = try temporaryDirectory("modes")
            try "MONGODB_ATLAS_URI=mongodb://u:secret@h/db\n".write(toFile: "\(directory)/.env", atomically: true, encoding: .utf8)
            try "{\"op\":\"insert\"}\n".write(toFile: "\(directory)/queue.jsonl", atomically: true, encoding: .utf8)
            let path = "\(directory)/backups/one"
            let manifest = try await BackupWriter.write(
                BackupRequest(database: database, directory: path, toolVersion: "test", source: "test",
                              envFile: "\(directory)/.env", queueFile: "\(directory)/queue.jsonl"),
                connection: connection)
            #expect(manifest.extraFiles.map(\.path) == [BackupWriter.envCopyName, BackupWriter.queueCopyName])
            func mode(_ path: String) throws -> Int {
                (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
            }
            #expect(try mode(path) == 0o700)
            #expect(try mode("\(path)/\(database)") == 0o700)
            for file in [BackupWriter.envCopyName, BackupWriter.queueCopyName, BackupManifest.fileName, "\(database)/c.bson", "\(database)/c.metadata.json"] {
                #expect(try mode("\(path)/\(file)") == 0o600, "\(file)")
            }
            #expect(try String(contentsOfFile: "\(path)/\(BackupWriter.envCopyName)", encoding: .utf8).contains("secret"))
        }
    }
}
