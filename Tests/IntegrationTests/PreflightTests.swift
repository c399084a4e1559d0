import Foundation
import SyncTestSupport
import Testing

@testable import SyncCore

/// Preflight through the real client against two servers.
@Suite(.enabled(if: TestServers.available, "needs SYNCCTL_TEST_LOCAL_URI and SYNCCTL_TEST_ATLAS_URI"))
struct PreflightTests {
    private func settings(local: String, atlas: String?, extra: String = "") throws -> Settings {
        let file = "MONGODB_LOCAL_URI=\(local)\nMONGODB_ATLAS_URI=\(atlas ?? "")\n\(extra)"
        return try Settings.resolve(flags: [:], environment: [:], file: DotenvFile(text: file, path: nil))
    }

    private func quick() -> PoolOptions {
        var options = PoolOptions()
        options.serverSelectionTimeoutMS = 2_000
        options.connectTimeoutMS = 2_000
        options.overrideTimeouts = true
        return options
    }

    @Test func healthyServersPassAndTheProbeLeavesNoTrace() async throws {
        try await withScratchDatabase(.local, "pf") { local, database in
            try await local.insert([["_id": 1]], database: database, collection: "users")
            let atlas = try TestServers.connection(.atlas)
            defer { atlas.close() }
            try await atlas.insert([["_id": 1, "app": "data"]], database: database, collection: "users")
            let preflight = Preflight(
                settings: try settings(local: TestServers.uri(.local, database: database), atlas: TestServers.uri(.atlas, database: database),
                                       extra: "SYNC_EXCLUDED_COLLECTIONS=users,nosuch\n"),
                phase: 2, options: quick(), host: FakeMachine())
            let outcomes = await preflight.run()
            let failed = outcomes.filter { $0.result == .fail }
            #expect(failed.isEmpty, "\(failed)")
            #expect(outcomes.first { $0.id == "atlas.write" }?.result == .pass)
            #expect(outcomes.first { $0.id == "settings.excluded-collections" }?.result == .warn)
            #expect(outcomes.first { $0.id == "settings.excluded-collections" }?.detail.contains("nosuch") == true)
            // The probe collection is gone again; application data untouched.
            #expect(try await atlas.collections(in: database).map(\.name) == ["users"])
            #expect(try await atlas.countDocuments(database: database, collection: "users") == 1)
            try await atlas.dropDatabase(database)
        }
    }

    @Test func missingDatabaseAndUnconfiguredAtlasFailInPhaseTwo() async throws {
        let preflight = Preflight(
            settings: try settings(local: TestServers.uri(.local, database: TestServers.uniqueDatabase("absent")), atlas: nil),
            phase: 2, options: quick(), host: FakeMachine())
        let outcomes = await preflight.run()
        #expect(outcomes.first { $0.id == "local.database" }?.result == .fail)
        #expect(outcomes.first { $0.id == "atlas.configured" }?.result == .fail)
        #expect(outcomes.first { $0.id == "clock.skew" }?.result == .skip)
    }

    @Test func unreachableAtlasIsAFailedCheckNotAnError() async throws {
        let port = FaultyEndpoints.closedPort()
        try await withScratchDatabase(.local, "pfdown") { local, database in
            try await local.insert([["_id": 1]], database: database, collection: "c")
            let preflight = Preflight(
                settings: try settings(local: TestServers.uri(.local, database: database), atlas: "mongodb://127.0.0.1:\(port)/x"),
                phase: 2, options: quick(), host: FakeMachine())
            let outcomes = await preflight.run()
            let atlas = outcomes.first { $0.id == "atlas.reachable" }
            #expect(atlas?.result == .fail)
            #expect(atlas?.detail.hasPrefix("refused") == true)
            #expect(outcomes.first { $0.id == "local.reachable" }?.result == .pass)
        }
    }

    @Test(.enabled(if: TestServerProcess.available, "needs TESTSERVER_PYTHON to start a server reporting 4.2"))
    func serverOlderThan44FailsTheVersionCheck() async throws {
        let old = try TestServerProcess(arguments: ["--version", "4.2.0"])
        defer { old.stop() }
        let preflight = Preflight(settings: try settings(local: "\(old.uri)/bomba", atlas: nil), phase: 1, options: quick(), host: FakeMachine())
        let outcomes = await preflight.run()
        let version = outcomes.first { $0.id == "local.version" }
        #expect(version?.result == .fail)
        #expect(version?.detail.contains("4.2.0") == true)
    }
}

/// The real machine's disk, but no Node.js or pm2 questions asked of it.
private struct FakeMachine: PreflightHost {
    let system = SystemPreflightHost()
    var now: Date { Date() }
    func freeBytes(at path: String) -> Int64? { system.freeBytes(at: path) }
    func permissions(of path: String) -> UInt16? { 0o600 }
    func findExecutable(_ name: String) -> String? { nil }
    func firstLine(of executable: String, arguments: [String]) -> String? { nil }
    func newestBackup(in directory: String) -> (path: String, date: Date)? { nil }
}
