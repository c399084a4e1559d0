import Foundation
import SyncCore
import SyncTestSupport
import Testing

/// `syncctl perf-test` against the test servers: it measures, judges by its thresholds, and
/// leaves nothing behind.
@Suite(.enabled(if: TestServers.available, "needs the test servers"))
struct PerfTestCommandTests {
    @Test func passesAndLeavesNoScratchDataBehind() async throws {
        try await withScratchDatabase(.local, "perftest") { local, database in
            try await local.insert([["_id": 1, "app": true]], database: database, collection: "users")
            let dir = try SyncctlProcess.scratchDirectory()
            try SyncctlProcess.writeEnv(ReplayCommandTests.env(local: TestServers.uri(.local, database: database),
                                                               atlas: TestServers.uri(.atlas, database: database)), in: dir)
            // Timing thresholds are for benchmarks, not tests: these limits only catch a stall.
            let run = try SyncctlProcess.run(["perf-test", "--ops", "100", "--max-op-ms", "1000", "--max-sync-ms", "30000", "--json"], in: dir)
            #expect(run.status == 0, "\(run.output)")
            let document = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            let report = try #require(document["report"] as? [String: Any])
            #expect(report["delivered"] as? Int == 100)
            for key in ["syncOff", "syncOn", "append", "syncTime"] {
                let summary = report[key] as? [String: Any]
                #expect(summary?["count"] as? Int == 100, "\(key)")
                #expect(summary.map { Set($0.keys).isSuperset(of: ["average", "p50", "p95", "p99", "max"]) } == true)
            }
            #expect((report["verdicts"] as? [[String: Any]])?.allSatisfy { $0["passed"] as? Bool == true } == true)

            let atlas = try TestServers.connection(.atlas)
            defer { atlas.close() }
            #expect(try await local.collections(in: database).map(\.name) == ["users"])
            #expect(try await atlas.collections(in: database).filter { $0.name.hasPrefix("syncctl_") }.isEmpty)
            #expect(try await local.countDocuments(database: database, collection: "users") == 1)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent(".syncctl").path)
            #expect(!leftovers.contains { $0.hasPrefix(".syncctl-perftest") })
            try await atlas.dropDatabase(database)
        }
    }

    @Test func aMissedThresholdExits2() async throws {
        try await withScratchDatabase(.local, "perfmiss") { _, database in
            let dir = try SyncctlProcess.scratchDirectory()
            try SyncctlProcess.writeEnv(ReplayCommandTests.env(local: TestServers.uri(.local, database: database),
                                                               atlas: TestServers.uri(.atlas, database: database)), in: dir)
            let run = try SyncctlProcess.run(["perf-test", "--ops", "20", "--max-sync-ms", "0.001"], in: dir)
            #expect(run.status == 2, "\(run.output)")
            #expect(run.stdout.contains("✗ average sync time < 0.00 ms"))
            #expect(run.stdout.contains("✓ every document reached Atlas"))
        }
    }
}
