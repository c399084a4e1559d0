import Foundation
import Logging
import SyncTestSupport
import Testing

@testable import SyncCore

/// One replay test's world: the same fresh database on both servers, an Atlas connection
/// with an application name of its own (so failpoints touch only this test), and a queue in
/// a temporary directory. `close()` drops both databases and the queue.
final class QueueTestHarness: @unchecked Sendable {
    // Invariant: set up once in init, then only read.
    let database: String
    let local: MongoConnection
    let atlas: MongoConnection
    let appName: String
    let directory: String
    let files: QueueFiles

    init(_ test: String) throws {
        database = TestServers.uniqueDatabase(test)
        appName = "replay-\(test.prefix(12))-\(UInt32.random(in: 0...UInt32.max))"
        local = try TestServers.connection(.local)
        atlas = try TestServers.connection(.atlas, appName: appName, timeoutMS: 2_000)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("syncctl-replay-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        files = QueueFiles(path: "\(directory)/sync-queue.jsonl", state: StateDirectory(path: "\(directory)/state"))
    }

    var appender: QueueAppender { QueueAppender(path: files.path, durable: false) }

    var applier: MirrorApplier {
        MirrorApplier(local: local, atlas: atlas, localDatabase: database, atlasDatabase: database)
    }

    func options(_ configure: (inout ReplayOptions) -> Void = { _ in }) -> ReplayOptions {
        var options = ReplayOptions(batchSize: 50, maxRetries: 2, localDatabase: database, atlasDatabase: database,
                                    retry: RetryPolicy(initial: .milliseconds(20), maximum: .milliseconds(200)), transientAttemptLimit: 20)
        configure(&options)
        return options
    }

    func worker(_ configure: (inout ReplayOptions) -> Void = { _ in }) throws -> ReplayWorker {
        try ReplayWorker(files: files, applier: applier, options: options(configure))
    }

    /// Writes locally, then appends the entry — what the application does.
    func insert(_ document: BSONDocument, into collection: String) async throws {
        try await local.insert([document], database: database, collection: collection)
        try appender.append(.insert, database: database, collection: collection, id: document["_id"]!)
    }

    func update(_ id: BSONValue, set: BSONDocument, in collection: String) async throws {
        let reply = try await local.runCommand(BSONDocument(pairs: [
            ("update", .string(collection)),
            ("updates", .array([.document(BSONDocument(pairs: [("q", .document(["_id": id])), ("u", .document(["$set": .document(set)]))]))])),
        ]), database: database)
        #expect(reply["nModified"]?.intValue == 1)
        try appender.append(.update, database: database, collection: collection, id: id)
    }

    func delete(_ id: BSONValue, from collection: String) async throws {
        try await local.deleteOne(["_id": id], database: database, collection: collection)
        try appender.append(.delete, database: database, collection: collection, id: id)
    }

    /// Every document of a collection on one side, in `_id` order.
    func documents(_ connection: MongoConnection, _ collection: String) async throws -> [BSONDocument] {
        try await connection.withFind(database: database, collection: collection, options: .byID()) { stream in
            var all: [BSONDocument] = []
            while let batch = try await stream.next() { all += batch }
            return all
        }
    }

    /// Atlas holds exactly local's documents, byte for byte.
    func expectMirrored(_ collection: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let mine = try await documents(local, collection)
        let theirs = try await documents(atlas, collection)
        #expect(mine.count == theirs.count, "local \(mine.count) vs Atlas \(theirs.count) documents", sourceLocation: sourceLocation)
        #expect(mine.map(\.bytes) == theirs.map(\.bytes), "\(collection) differs", sourceLocation: sourceLocation)
    }

    func failPoint(_ mode: BSONValue, data: BSONDocument) async throws {
        let admin = try TestServers.connection(.atlas)
        defer { admin.close() }
        _ = try await admin.runCommand(BSONDocument(pairs: [
            ("configureFailPoint", "failCommand"), ("mode", mode), ("data", .document(data.appending("appName", .string(appName)))),
        ]), database: "admin")
    }

    func close() async {
        try? await local.dropDatabase(database)
        try? await atlas.dropDatabase(database)
        local.close()
        atlas.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs `body` with a harness and cleans up whatever happens.
    static func with(_ test: String, _ body: (QueueTestHarness) async throws -> Void) async throws {
        let harness = try QueueTestHarness(test)
        do {
            try await body(harness)
            await harness.close()
        } catch {
            await harness.close()
            throw error
        }
    }
}
