import Foundation
import Testing

@testable import SyncCore
import SyncTestSupport

@Suite(.enabled(if: TestServers.available, "needs SYNCCTL_TEST_LOCAL_URI and SYNCCTL_TEST_ATLAS_URI"))
struct MongoConnectionTests {
    @Test func versionIsReadFromBuildInfo() async throws {
        let connection = try TestServers.connection(.local)
        defer { connection.close() }
        let version = try await connection.serverVersion()
        #expect(version.major >= 3)
        let hello = try await connection.hello()
        #expect(hello["maxWriteBatchSize"]?.intValue ?? 0 > 0)
        #expect(hello["localTime"] != nil)
    }

    @Test func everyBSONTypeRoundTripsByteExactlyThroughTheServer() async throws {
        try await withScratchDatabase(.local, "types") { connection, database in
            let document = try BSONDocument(extendedJSON: BSONSamples.everyTypeJSON)
            try await connection.insert([document], database: database, collection: "types")
            let read = try await connection.withFind(database: database, collection: "types") { try await $0.next() }
            #expect(read?.count == 1)
            #expect(read?.first?.bytes == document.bytes)
        }
    }

    @Test func idsOfEveryKindComeBackInBSONOrder() async throws {
        try await withScratchDatabase(.local, "ids") { connection, database in
            // Inserted shuffled; MongoDB sorts numbers together by value, then strings,
            // documents, binary, ObjectId, in BSON's cross-type order.
            let ids: [BSONValue] = [
                .objectID(ObjectID(hex: "507f1f77bcf86cd799439011")!), .string("b"), .int32(3), .int64(2),
                .double(2.5), .document(["k": 1]), .binary(subtype: 0, data: [1, 2]), .string("a"), .int32(-1),
            ]
            for id in ids {
                try await connection.insert([["_id": id]], database: database, collection: "mixed")
            }
            let read = try await connection.withFind(database: database, collection: "mixed", options: .byID()) {
                try await $0.next()
            }
            let order = read?.compactMap { $0["_id"] } ?? []
            #expect(order == [
                .int32(-1), .int64(2), .double(2.5), .int32(3), .string("a"), .string("b"), .document(["k": 1]),
                .binary(subtype: 0, data: [1, 2]), .objectID(ObjectID(hex: "507f1f77bcf86cd799439011")!),
            ])
        }
    }

    @Test func oddCollectionNamesWork() async throws {
        try await withScratchDatabase(.local, "names") { connection, database in
            let names = ["with.dots", "with space", "ünïcødé", "order"]
            for name in names {
                try await connection.insert([["_id": 1]], database: database, collection: name)
            }
            let listed = try await connection.collections(in: database).map(\.name)
            #expect(Set(listed) == Set(names))
            for name in names {
                #expect(try await connection.countDocuments(database: database, collection: name) == 1)
            }
        }
    }

    @Test func streamReadsInBoundedBatches() async throws {
        try await withScratchDatabase(.local, "stream") { connection, database in
            let writer = BulkWriter(connection: connection, database: database, collection: "c", limits: BulkLimits(maxCount: 500))
            for i in 0..<5_000 {
                try await writer.add(.insert(["_id": .int32(Int32(i)), "pad": .string(String(repeating: "x", count: 100))]))
            }
            try await writer.flush()
            #expect(writer.total.inserted == 5_000)
            var options = FindOptions.byID(batchSize: 700)
            options.projection = ["_id": 1]
            var seen = 0
            var largest = 0
            try await connection.withFind(database: database, collection: "c", options: options) { stream in
                while let batch = try await stream.next(maxCount: 300) {
                    #expect(batch.first?["_id"]?.intValue == seen)
                    seen += batch.count
                    largest = max(largest, batch.count)
                }
            }
            #expect(seen == 5_000)
            #expect(largest == 300)
        }
    }

    @Test func bulkWriterFlushesByBytesAndCountsUpsertsAndDeletes() async throws {
        try await withScratchDatabase(.atlas, "bulk") { connection, database in
            let writer = BulkWriter(connection: connection, database: database, collection: "c",
                                    limits: BulkLimits(maxCount: 10_000, maxBytes: 64 * 1024))
            let big = String(repeating: "y", count: 10_000)
            var flushes = 0
            for i in 0..<20 {
                if try await writer.add(.upsert(filter: ["_id": .int32(Int32(i))], document: ["_id": .int32(Int32(i)), "big": .string(big)])) != nil {
                    flushes += 1
                }
            }
            try await writer.flush()
            #expect(flushes >= 2)  // 200 KB in 64 KB batches
            #expect(writer.total.upserted == 20)
            try await writer.add(.upsert(filter: ["_id": 0], document: ["_id": 0, "v": 2]))
            try await writer.add(.deleteOne(filter: ["_id": 1]))
            let result = try await writer.flush()
            #expect(result.matched == 1 && result.modified == 1 && result.deleted == 1)
            #expect(try await connection.countDocuments(database: database, collection: "c") == 19)
        }
    }

    @Test func duplicateKeysAreReportedAsWriteErrors() async throws {
        try await withScratchDatabase(.local, "dup") { connection, database in
            try await connection.insert([["_id": 1]], database: database, collection: "c")
            let writer = BulkWriter(connection: connection, database: database, collection: "c")
            try await writer.add(.insert(["_id": 1]))
            try await writer.add(.insert(["_id": 2]))
            let result = try await writer.flush()
            #expect(result.inserted == 1)
            #expect(result.writeErrors.map(\.code) == [11000])
        }
    }

    @Test func refusedPortIsUnreachableWithReasonRefused() async throws {
        let port = FaultyEndpoints.closedPort()
        let connection = try MongoConnection(uri: "mongodb://127.0.0.1:\(port)/x", redactedURI: "x", name: "local", options: quickOptions())
        defer { connection.close() }
        let error = await #expect(throws: MongoError.self) { try await connection.ping() }
        #expect(error?.kind == .unreachable)
        #expect(error?.reason == .refused)
    }

    @Test func silentServerIsUnreachableWithReasonTimeout() async throws {
        let listener = HangingListener()
        defer { listener.close() }
        let connection = try MongoConnection(uri: "mongodb://127.0.0.1:\(listener.port)/x", redactedURI: "x", name: "local", options: quickOptions())
        defer { connection.close() }
        let error = await #expect(throws: MongoError.self) { try await connection.ping() }
        #expect(error?.kind == .unreachable)
        #expect(error?.reason == .timeout)
    }

    @Test(.exclusiveFailPoints) func connectionClosedMidCommandIsTransient() async throws {
        let appName = "closeconn-\(UInt32.random(in: 0...UInt32.max))"
        let admin = try TestServers.connection(.atlas)
        defer { admin.close() }
        let victim = try TestServers.connection(.atlas, appName: appName)
        defer { victim.close() }
        let database = TestServers.uniqueDatabase("closeconn")
        _ = try await admin.runCommand([
            "configureFailPoint": "failCommand", "mode": .document(["times": 1]),
            "data": .document(["failCommands": .array(["insert"]), "closeConnection": true, "appName": .string(appName)]),
        ], database: "admin")
        let error = await #expect(throws: MongoError.self) {
            try await victim.runCommand(BSONDocument(pairs: [("insert", "c"), ("documents", .array([.document(["_id": 1])]))]), database: database)
        }
        #expect(error?.isTransient == true)
        // The failpoint fired once; the next attempt goes through.
        try await victim.insert([["_id": 1]], database: database, collection: "c")
        try await admin.dropDatabase(database)
    }

    private func quickOptions() -> PoolOptions {
        var options = PoolOptions()
        options.serverSelectionTimeoutMS = 1_500
        options.connectTimeoutMS = 1_000
        options.overrideTimeouts = true
        return options
    }
}
