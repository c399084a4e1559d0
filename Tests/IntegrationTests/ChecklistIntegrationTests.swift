import Foundation
import SyncCore
import SyncTestSupport
import Testing

/// The checklists' automatic items against real servers: the test servers under `make test`,
/// or real MongoDB and Atlas (TESTING.md).
@Suite(.enabled(if: TestServers.available, "needs SYNCCTL_TEST_LOCAL_URI and SYNCCTL_TEST_ATLAS_URI (make test)"))
struct ChecklistIntegrationTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func checklist(_ phase: String) throws -> Checklist {
        let path = repository.appendingPathComponent("Checklists/\(phase).md").path
        return try Checklist.parse(markdown: try String(contentsOfFile: path, encoding: .utf8), phase: phase, source: path)
    }

    /// A private .env in a scratch directory, with a finished backup beside it (phase 3 needs one).
    static func environment(local: String, atlas: String) throws -> (file: DotenvFile, directory: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("syncctl-checklist-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: "\(directory)/backups/20250101T000000Z/bomba", withIntermediateDirectories: true)
        try Data().write(to: URL(fileURLWithPath: "\(directory)/backups/20250101T000000Z/bomba/users.bson"))
        let text = """
            SYNC_ENABLED=false
            MONGODB_LOCAL_URI=\(local)
            MONGODB_ATLAS_URI=\(atlas)
            SYNC_STATE_DIR=\(directory)/state
            SYNC_BACKUP_DIR=\(directory)/backups

            """
        let path = "\(directory)/.env"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        return (try DotenvFile.load(path: path), directory)
    }

    static func report(_ phase: String, file: DotenvFile) async throws -> ChecklistReport {
        let checklist = try checklist(phase)
        let settings = try Settings.resolve(flags: [:], environment: [:], file: file)
        var options = PoolOptions()
        options.serverSelectionTimeoutMS = 3000
        options.connectTimeoutMS = 3000
        options.overrideTimeouts = true
        var preflight: [Int: [CheckOutcome]] = [:]
        for phase in checklist.preflightPhases {
            preflight[phase] = await Preflight(settings: settings, phase: phase, options: options).run()
        }
        let rollout = RolloutSettings.read(flags: [:], environment: [:], file: file)
        return ChecklistReport(checklist, preflight: preflight, facts: RolloutFacts(settings: rollout, entries: Journal(state: rollout.state).entries()))
    }

    static func results(_ report: ChecklistReport) -> [String: ChecklistReport.ItemResult] {
        var results: [String: ChecklistReport.ItemResult] = [:]
        for item in report.sections.flatMap(\.items) {
            if let check = item.check { results[check] = item.result }
        }
        return results
    }

    @Test func phase1AutomaticItemsPassAgainstHealthyServers() async throws {
        try await withScratchDatabase(.local, "checklist") { local, database in
            try await local.insert([["_id": 1, "name": "a"]], database: database, collection: "users")
            let env = try Self.environment(local: TestServers.uri(.local, database: database), atlas: TestServers.uri(.atlas, database: database))
            let report = try await Self.report("phase1", file: env.file)
            let failing = report.sections.flatMap(\.items).filter { $0.kind == "automatic" && $0.result != .passed && $0.result != .warning }
            #expect(failing.isEmpty, "\(failing.map { "\($0.check ?? ""): \($0.detail ?? "")" })")
            #expect(report.ok)
            #expect(report.summary.manual > 0)
        }
    }

    @Test func phase1WithTheLocalServerStoppedFailsExactlyTheLocalItems() async throws {
        try await withScratchDatabase(.atlas, "checklist") { _, database in
            let closed = "mongodb://127.0.0.1:\(FaultyEndpoints.closedPort())/\(database)"
            let env = try Self.environment(local: closed, atlas: TestServers.uri(.atlas, database: database))
            let report = try await Self.report("phase1", file: env.file)
            let results = Self.results(report)
            #expect(results["local.reachable"] == .failed)
            for dependent in ["local.version", "local.database", "disk.space", "settings.excluded-collections"] {
                #expect(results[dependent] == .notChecked, "\(dependent): \(String(describing: results[dependent]))")
            }
            for healthy in ["settings.valid", "settings.sync-disabled", "env.permissions", "atlas.configured", "atlas.reachable", "atlas.version", "atlas.write"] {
                #expect(results[healthy] == .passed, "\(healthy): \(String(describing: results[healthy]))")
            }
            #expect(!report.ok)
        }
    }

    /// A typo in a checklist's check id would leave its item "not checked" for ever: every id
    /// the checklists name must be one preflight reports when everything is healthy.
    @Test func everyPreflightCheckTheChecklistsNameIsReported() async throws {
        try await withScratchDatabase(.local, "checklist") { local, database in
            try await local.insert([["_id": 1]], database: database, collection: "users")
            let env = try Self.environment(local: TestServers.uri(.local, database: database), atlas: TestServers.uri(.atlas, database: database))
            for phase in Checklist.phases {
                let report = try await Self.report(phase, file: env.file)
                for item in report.sections.flatMap(\.items) where item.command?.hasPrefix("syncctl preflight") == true {
                    #expect(item.result != .notChecked, "\(phase): \(item.check ?? "") — \(item.detail ?? "")")
                }
            }
        }
    }
}
