internal import CLibMongoC
import Foundation

/// One MongoDB deployment as syncctl uses it: a client pool plus the threads that make its
/// blocking calls. Every method is async and safe to call from any task.
public final class MongoConnection: Sendable {
    /// "local" or "atlas": used in messages.
    public let name: String
    /// The URI with its password hidden: the only form of it that may be shown.
    public let redactedURI: String
    let pool: ClientPool
    let executor: DriverExecutor

    /// Creates the pool; nothing touches the network until the first call.
    public init(uri: String, redactedURI: String, name: String, options: PoolOptions = PoolOptions()) throws(MongoError) {
        self.name = name
        self.redactedURI = redactedURI
        self.pool = try ClientPool(uri: uri, options: options)
        // One thread per pooled client, plus one so a pop that waits for a client never
        // blocks the work that would give one back.
        self.executor = DriverExecutor(threads: Int(options.maxPoolSize) + 1, name: "mongoc-\(name)")
    }

    /// Releases the pool and its threads.
    public func close() {
        pool.close()
        executor.shutdown()
    }

    /// Runs `body` with a pooled client on a driver thread.
    func withClient<T: Sendable>(_ body: @escaping @Sendable (OpaquePointer) throws -> T) async throws -> T {
        let pool = self.pool
        return try await executor.run { try pool.withClient(body) }
    }

    /// Runs a command and returns the server's reply; a failed command throws `MongoError`.
    public func runCommand(_ command: BSONDocument, database: String) async throws -> BSONDocument {
        try await withClient { client in try MongoConnection.command(client, command, database: database) }
    }

    /// Blocking command call on a client the caller holds.
    static func command(_ client: OpaquePointer, _ command: BSONDocument, database: String) throws -> BSONDocument {
        try command.withBSON { cmd in
            try withReply { reply, error in
                mongoc_client_command_with_opts(client, database, cmd, nil, nil, reply, error)
            }
        }
    }

    /// `ping`, returning the round-trip time of the command itself.
    @discardableResult
    public func ping() async throws -> Duration {
        let clock = ContinuousClock()
        // The first call also pays for server selection and the handshake; time a second one.
        _ = try await runCommand(["ping": 1], database: "admin")
        let start = clock.now
        _ = try await runCommand(["ping": 1], database: "admin")
        return clock.now - start
    }

    /// The `hello` reply (server limits, `localTime`).
    public func hello() async throws -> BSONDocument {
        try await runCommand(["hello": 1], database: "admin")
    }

    /// The server's version from `buildInfo.versionArray` (falling back to `version`).
    public func serverVersion() async throws -> ServerVersion {
        let reply = try await runCommand(["buildInfo": 1], database: "admin")
        guard let version = ServerVersion(buildInfo: reply) else {
            throw MongoError(kind: .unexpected, reason: .other, message: "\(name): buildInfo reply has no version")
        }
        return version
    }

    /// Names of every database on the server.
    public func databaseNames() async throws -> [String] {
        let reply = try await runCommand(["listDatabases": 1, "nameOnly": true], database: "admin")
        return reply["databases"]?.arrayValue?.compactMap { $0.documentValue?["name"]?.stringValue } ?? []
    }

    /// The collections (not views) of a database, with their options, in name order.
    public func collections(in database: String) async throws -> [CollectionInfo] {
        let reply = try await runCommand(["listCollections": 1, "cursor": .document(.empty)], database: database)
        var infos: [CollectionInfo] = []
        var cursor = reply["cursor"]?.documentValue
        var batch = cursor?["firstBatch"]?.arrayValue ?? []
        while true {
            infos += batch.compactMap { $0.documentValue.flatMap(CollectionInfo.init(listCollectionsEntry:)) }
            guard let id = cursor?["id"], id.intValue != 0 else { break }
            let more = try await runCommand(
                ["getMore": id, "collection": "$cmd.listCollections"], database: database)
            cursor = more["cursor"]?.documentValue
            batch = cursor?["nextBatch"]?.arrayValue ?? []
        }
        return infos.filter { $0.type == "collection" }.sorted { $0.name < $1.name }
    }

    /// Data size of a database in bytes as `dbStats` reports it (uncompressed BSON size).
    public func dataSize(of database: String) async throws -> Int64 {
        let reply = try await runCommand(["dbStats": 1, "scale": 1], database: database)
        return Int64(reply["dataSize"]?.doubleValue ?? 0)
    }

    /// The server's count of a collection's documents (`count` without a query: from metadata
    /// on MongoDB, so instant however large the collection); 0 when it does not exist.
    public func estimatedCount(database: String, collection: String) async throws -> Int {
        let reply = try await runCommand(["count": .string(collection)], database: database)
        return reply["n"]?.intValue ?? 0
    }

    /// Exact number of documents matching `filter` (an aggregation, as the drivers do it).
    public func countDocuments(database: String, collection: String, filter: BSONDocument = .empty) async throws -> Int64 {
        try await withClient { client in
            let coll = mongoc_client_get_collection(client, database, collection)!
            defer { mongoc_collection_destroy(coll) }
            var count: Int64 = -1
            _ = try withReply { reply, error in
                count = filter.withBSON { mongoc_collection_count_documents(coll, $0, nil, nil, reply, error) }
                return count >= 0
            }
            return count
        }
    }

    /// Inserts documents in one acknowledged command; returns how many were inserted.
    @discardableResult
    public func insert(_ documents: [BSONDocument], database: String, collection: String) async throws -> Int {
        let reply = try await runCommand(
            BSONDocument(pairs: [("insert", .string(collection)), ("documents", .array(documents.map(BSONValue.document)))]),
            database: database)
        try MongoConnection.throwWriteErrors(reply, name: name)
        return reply["n"]?.intValue ?? 0
    }

    /// Deletes at most one document matching `filter`; returns how many were deleted.
    @discardableResult
    public func deleteOne(_ filter: BSONDocument, database: String, collection: String) async throws -> Int {
        let reply = try await runCommand(
            BSONDocument(pairs: [
                ("delete", .string(collection)),
                ("deletes", .array([.document(["q": .document(filter), "limit": 1])])),
            ]), database: database)
        try MongoConnection.throwWriteErrors(reply, name: name)
        return reply["n"]?.intValue ?? 0
    }

    /// Drops a collection; dropping one that does not exist is not an error.
    public func dropCollection(_ collection: String, database: String) async throws {
        do {
            _ = try await runCommand(["drop": .string(collection)], database: database)
        } catch let error as MongoError where error.code == 26 {
            // NamespaceNotFound: servers before 7.0 report it; the outcome is the same.
        }
    }

    /// Drops a whole database.
    public func dropDatabase(_ database: String) async throws {
        _ = try await runCommand(["dropDatabase": 1], database: database)
    }

    static func throwWriteErrors(_ reply: BSONDocument, name: String) throws {
        guard let first = reply["writeErrors"]?.arrayValue?.first?.documentValue else { return }
        let code = Int32(first["code"]?.intValue ?? 0)
        throw MongoError(kind: .unexpected, reason: .command,
                         message: "\(name): write error \(code): \(first["errmsg"]?.stringValue ?? "")", code: code)
    }
}

/// Gives a C call a reply document to fill (128-byte aligned heap memory, initialised by the
/// callee) and copies it out: whether the call succeeded, the reply, and the driver's error.
func replyOf(_ call: (OpaquePointer, UnsafeMutablePointer<bson_error_t>) -> Bool) -> (ok: Bool, reply: BSONDocument, error: bson_error_t) {
    let reply = syncctl_bson_alloc()!
    defer { syncctl_bson_free(reply) }
    var error = bson_error_t()
    let ok = call(reply, &error)
    let document = BSONDocument(copying: reply)
    bson_destroy(reply)
    return (ok, document, error)
}

/// `replyOf` for a call whose failure is an error: maps it to `MongoError`.
func withReply(_ call: (OpaquePointer, UnsafeMutablePointer<bson_error_t>) -> Bool) throws -> BSONDocument {
    let (ok, document, error) = replyOf(call)
    guard ok else { throw MongoError(error, reply: document) }
    return document
}
