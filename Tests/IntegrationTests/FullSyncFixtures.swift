import Foundation
import Testing

@testable import SyncCore
import SyncTestSupport

/// A scratch database of the same name on both test servers, with a `DualConnection` over
/// them as syncctl builds it from its settings; both are dropped afterwards.
struct SyncPair {
    let database: String
    let local: MongoConnection
    let atlas: MongoConnection
    let connections: DualConnection

    /// A `FullSync` over the pair with small, quick settings.
    func fullSync(_ configure: (inout FullSyncOptions) -> Void = { _ in }, checkpoint: CheckpointFile? = nil) -> FullSync {
        var options = FullSyncOptions()
        options.retry = TransientRetry(maxRetries: 3, backoff: RetryPolicy(initial: .milliseconds(50), maximum: .milliseconds(200)))
        configure(&options)
        return FullSync(connections: connections, options: options, checkpointFile: checkpoint)
    }

    /// A deep `ConsistencyCheck` over the pair with a short recheck delay.
    func verify(_ configure: (inout VerifyOptions) -> Void = { _ in }) -> ConsistencyCheck {
        var options = VerifyOptions()
        options.recheckDelay = .milliseconds(50)
        options.retry = TransientRetry(maxRetries: 3, backoff: RetryPolicy(initial: .milliseconds(50), maximum: .milliseconds(200)))
        options.spillDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("syncctl-verify-\(UUID().uuidString)").path
        configure(&options)
        return ConsistencyCheck(connections: connections, options: options)
    }

    func insert(_ documents: [BSONDocument], into collection: String, on side: MongoConnection) async throws {
        let writer = BulkWriter(connection: side, database: database, collection: collection, limits: BulkLimits(maxCount: 1_000))
        for document in documents { try await writer.add(.insert(document)) }
        try await writer.flush()
        #expect(writer.total.writeErrors.isEmpty)
    }

    /// Every document of a collection in `_id` order, as raw bytes.
    func documents(_ collection: String, on side: MongoConnection) async throws -> [[UInt8]] {
        try await side.withFind(database: database, collection: collection, options: .byID()) { stream in
            var all: [[UInt8]] = []
            while let batch = try await stream.next() { all += batch.map(\.bytes) }
            return all
        }
    }

    /// Every collection's documents, options and index names on one side.
    func snapshot(of side: MongoConnection) async throws -> [String: Snapshot] {
        var result: [String: Snapshot] = [:]
        for info in try await side.collections(in: database) {
            let indexes = try await side.indexes(database: database, collection: info.name).compactMap { $0["name"]?.stringValue }
            result[info.name] = Snapshot(options: info.options, indexes: indexes.sorted(), documents: try await documents(info.name, on: side))
        }
        return result
    }

    struct Snapshot: Equatable {
        let options: BSONDocument
        let indexes: [String]
        let documents: [[UInt8]]
    }

    func run(_ command: BSONDocument, on side: MongoConnection) async throws -> BSONDocument {
        try await side.runCommand(command, database: database)
    }
}

/// Runs `body` with a fresh `SyncPair`; `appName` goes into the pair's handshake (failpoints
/// can target it).
func withSyncPair(_ test: String, appName: String = "syncctl-tests", _ body: (SyncPair) async throws -> Void) async throws {
    let database = TestServers.uniqueDatabase(test)
    let local = try TestServers.connection(.local)
    let atlas = try TestServers.connection(.atlas)
    defer {
        local.close()
        atlas.close()
    }
    let settings = try Settings.resolve(
        flags: [.localURI: TestServers.uri(.local, database: database), .atlasURI: TestServers.uri(.atlas, database: database)],
        environment: [:], file: nil)
    var options = PoolOptions()
    options.appName = appName
    let connections = try DualConnection(settings: settings, options: options)
    defer { connections.close() }
    let pair = SyncPair(database: database, local: local, atlas: atlas, connections: connections)
    do {
        try await body(pair)
    } catch {
        try? await local.dropDatabase(database)
        try? await atlas.dropDatabase(database)
        throw error
    }
    try? await local.dropDatabase(database)
    try? await atlas.dropDatabase(database)
}

/// A failpoint on one server that only connections with `appName` trip; `off` turns it off.
func failPoint(_ side: MongoConnection, appName: String, commands: [String], mode: BSONValue, closeConnection: Bool = false,
               errorCode: Int32? = nil) async throws {
    var data: [(String, BSONValue)] = [("failCommands", .array(commands.map(BSONValue.string))), ("appName", .string(appName))]
    if closeConnection { data.append(("closeConnection", true)) }
    if let errorCode { data.append(("errorCode", .int32(errorCode))) }
    _ = try await side.runCommand(
        BSONDocument(pairs: [("configureFailPoint", "failCommand"), ("mode", mode), ("data", .document(BSONDocument(pairs: data)))]),
        database: "admin")
}

/// `_id`s of every kind MongoDB allows, in BSON order when sorted.
let everyIDKind: [BSONValue] = [
    .int32(-5), .int64(2), .double(2.5), .int32(3), .int64(9_007_199_254_740_993), .string(""), .string("a"), .string("ünï"),
    .document(["k": 1]), .document(["k": 2, "a": "b"]), .binary(subtype: 0, data: [1, 2]), .binary(subtype: 4, data: Array(repeating: 7, count: 16)),
    .objectID(ObjectID(hex: "507f1f77bcf86cd799439011")!), .objectID(ObjectID(hex: "65f0a1b2c3d4e5f601234567")!),
    .bool(false), .bool(true), .datetime(-2_208_988_800_000), .datetime(1_700_000_000_000),
    .timestamp(seconds: 1_700_000_000, increment: 1), .decimal128(Decimal128("12.5")!),
]

/// One document per `_id` kind, with a little payload.
func documentsOfEveryIDKind() -> [BSONDocument] {
    everyIDKind.enumerated().map { index, id in
        BSONDocument(pairs: [("_id", id), ("n", .int32(Int32(index))), ("pad", .string(String(repeating: "p", count: index * 3)))])
    }
}
