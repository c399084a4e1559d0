import Foundation
import SyncCore
import SyncTestSupport
import Testing

/// `syncctl resilience-test` against the test servers: the seed's four claims hold.
@Suite(.enabled(if: TestServers.available, "needs the test servers"))
struct ResilienceCommandTests {
    @Test func allFourClaimsHoldOnHealthyServers() async throws {
        try await withScratchDatabase(.local, "resilience") { local, database in
            let dir = try SyncctlProcess.scratchDirectory()
            try SyncctlProcess.writeEnv(ReplayCommandTests.env(local: TestServers.uri(.local, database: database),
                                                               atlas: TestServers.uri(.atlas, database: database)), in: dir)
            let run = try SyncctlProcess.run(
                // Timing thresholds are for benchmarks, not tests: the limit here only catches a stall.
                ["resilience-test", "--flowing", "1", "--refused", "2", "--hanging", "2", "--restored", "1", "--max-op-ms", "1000", "--json"], in: dir)
            #expect(run.status == 0, "\(run.output)")
            let document = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            let report = try #require(document["report"] as? [String: Any])
            let verdicts = try #require(report["verdicts"] as? [[String: Any]])
            #expect(verdicts.map { $0["claim"] as? String } == [
                "operations continue when Atlas is down", "the queue grows", "operations sync on reconnect", "no data loss",
            ])
            #expect(verdicts.allSatisfy { $0["passed"] as? Bool == true }, "\(verdicts)")
            let phases = (report["timeline"] as? [[String: Any]])?.compactMap { $0["phase"] as? String } ?? []
            #expect(Set(phases).isSuperset(of: ["flowing", "refused", "hanging", "restored", "draining"]))
            #expect(try await local.collections(in: database).isEmpty)
        }
    }
}
