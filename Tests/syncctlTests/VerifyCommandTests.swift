import Foundation
import SyncCore
import SyncTestSupport
import Testing

/// `syncctl verify-consistency` as a binary: exit 2 on differences, `--repair`, count mode.
@Suite(.enabled(if: TestServers.available, "needs SYNCCTL_TEST_LOCAL_URI and SYNCCTL_TEST_ATLAS_URI"))
struct VerifyCommandTests {
    @Test func differencesExit2AndRepairMakesItConsistent() async throws {
        try await FullSyncCommandTests.Scene.with("vcmd-repair") { scene in
            try await scene.seed(["orders": 300])
            #expect(try SyncctlProcess.run(["full-sync", "--quiet"], in: scene.dir).status == 0)
            let atlas = try TestServers.connection(.atlas)
            defer { atlas.close() }
            _ = try await atlas.runCommand([
                "update": "orders",
                "updates": .array([.document(["q": .document(["_id": 7]), "u": .document(["_id": 7, "pad": "tampered"])])]),
            ], database: scene.database)
            try await atlas.deleteOne(["_id": 8], database: scene.database, collection: "orders")

            let found = try SyncctlProcess.run(["verify-consistency", "--recheck-delay", "0.1"], in: scene.dir)
            #expect(found.status == 2)
            #expect(found.stdout.contains("_id 7  different: pad"))
            #expect(found.stdout.contains("_id 8  missing-in-atlas"))
            #expect(!found.stdout.contains("tampered"), "values only with --show-values")
            #expect(found.stdout.contains("Not consistent"))

            let json = try SyncctlProcess.run(["verify-consistency", "--json", "--show-values", "--recheck-delay", "0.1"], in: scene.dir)
            #expect(json.status == 2)
            let document = try #require(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            #expect(document["consistent"] as? Bool == false)
            #expect(document["differences"] as? Int == 2)
            #expect(json.stdout.contains("tampered"))

            let counted = try SyncctlProcess.run(["verify-consistency", "--mode", "count"], in: scene.dir)
            #expect(counted.status == 2)
            #expect(counted.stdout.contains("300    299"))

            let repaired = try SyncctlProcess.run(["verify-consistency", "--repair", "--recheck-delay", "0.1"], in: scene.dir)
            #expect(repaired.status == 0, "\(repaired.stdout)\(repaired.stderr)")
            #expect(repaired.stdout.contains("after repairing 2 documents"))
            #expect(try SyncctlProcess.run(["verify-consistency", "--quiet"], in: scene.dir).status == 0)
            let prom = try String(contentsOf: scene.dir.appendingPathComponent(".syncctl/metrics/syncctl.prom"), encoding: .utf8)
            #expect(prom.contains("syncctl_verify_differences{collection=\"orders\"} 0"))
        }
    }

    @Test func invalidModesAndRepairWithCountAreCommandLineErrors() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try SyncctlProcess.run(["verify-consistency", "--mode", "fast", "--no-env-file"], in: dir).status == 64)
        let repair = try SyncctlProcess.run(["verify-consistency", "--mode", "count", "--repair", "--no-env-file"], in: dir)
        #expect(repair.status == 64)
        #expect(repair.stderr.contains("--repair needs --mode deep"))
    }
}
