import Foundation
import SyncCore
import SyncTestSupport
import Testing

/// `syncctl restore` run as a binary: what it refuses, what it asks, what it replaces.
@Suite(.enabled(if: TestServers.available, "needs SYNCCTL_TEST_LOCAL_URI and SYNCCTL_TEST_ATLAS_URI"))
struct RestoreCommandTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/mongodump-100.7.0").path

    private func directory(_ database: String) throws -> URL {
        let dir = try SyncctlProcess.scratchDirectory()
        try SyncctlProcess.writeEnv(
            "SYNC_ENABLED=false\nMONGODB_LOCAL_URI=\(TestServers.uri(.local, database: database))\nSYNC_STATE_DIR=state\n", in: dir)
        return dir
    }

    @Test(arguments: ["dump-dir", "dump-gzip", "bomba.archive"])
    func restoresEveryFixtureLayoutWithItsIndexes(_ layout: String) async throws {
        try await withScratchDatabase(.local, "e2e-layout") { connection, database in
            let dir = try directory(database)
            let run = try SyncctlProcess.run(["restore", "\(RestoreCommandTests.fixture)/\(layout)", "--to-db", database, "--json"], in: dir)
            #expect(run.status == 0, "\(run.output)")
            let report = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any] ?? [:]
            #expect((report["result"] as? [String: Any])?["targetDatabase"] as? String == database)
            #expect(try await connection.countDocuments(database: database, collection: "orders") == 600)
            let indexes = try await connection.indexes(database: database, collection: "users")
            #expect(indexes.contains { $0["name"]?.stringValue == "idx_users_email" && $0["unique"] == .bool(true) })
            let journal = try String(contentsOf: dir.appendingPathComponent("state/journal.jsonl"), encoding: .utf8)
            #expect(journal.contains("\"restore\"") && journal.contains("\"ok\""))
        }
    }

    @Test func refusesATargetHoldingDocumentsThenNeedsYesOffATerminalThenReplaces() async throws {
        try await withScratchDatabase(.local, "e2e-drop") { connection, database in
            try await connection.insert([["_id": 1, "precious": true]], database: database, collection: "users")
            let dir = try directory(database)
            let source = "\(RestoreCommandTests.fixture)/dump-dir"

            let refused = try SyncctlProcess.run(["restore", source, "--to-db", database], in: dir)
            #expect(refused.status == 73, "\(refused.output)")
            #expect(refused.stderr.contains("users") && refused.stderr.contains("--drop"))
            #expect(try await connection.collections(in: database).map(\.name) == ["users"])

            let unconfirmed = try SyncctlProcess.run(["restore", source, "--to-db", database, "--drop"], in: dir)
            #expect(unconfirmed.status == 64, "\(unconfirmed.output)")
            #expect(unconfirmed.stderr.contains("will be dropped: users (1 documents)"))
            #expect(unconfirmed.stderr.contains("--yes"))
            #expect(try await connection.countDocuments(database: database, collection: "users") == 1)

            let replaced = try SyncctlProcess.run(["restore", source, "--to-db", database, "--drop", "--yes"], in: dir)
            #expect(replaced.status == 0, "\(replaced.output)")
            #expect(replaced.stdout.contains("dropped first: users"))
            #expect(try await connection.countDocuments(database: database, collection: "users") == 300)
            #expect(try await connection.countDocuments(database: database, collection: "users", filter: ["precious": true]) == 0)
        }
    }

    @Test func onlyTheCollectionsAskedFor() async throws {
        try await withScratchDatabase(.local, "e2e-some") { connection, database in
            let dir = try directory(database)
            let run = try SyncctlProcess.run(
                ["restore", "\(RestoreCommandTests.fixture)/bomba.archive", "--to-db", database, "--collections", "users,bills"], in: dir)
            #expect(run.status == 0, "\(run.output)")
            #expect(Set(try await connection.collections(in: database).map(\.name)) == ["users", "bills"])
            let unknown = try SyncctlProcess.run(
                ["restore", "\(RestoreCommandTests.fixture)/bomba.archive", "--to-db", database, "--collections", "nope"], in: dir)
            #expect(unknown.status == 66)
        }
    }
}
