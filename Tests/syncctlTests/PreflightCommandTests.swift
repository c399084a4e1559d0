import Foundation
import SyncTestSupport
import Testing

/// `syncctl preflight` run as a binary: bad input gets its documented exit code, a one-line
/// reason, and never a password.
struct PreflightCommandTests {
    private func env(local: String, atlas: String = "") -> String {
        "SYNC_ENABLED=false\nMONGODB_LOCAL_URI=\(local)\nMONGODB_ATLAS_URI=\(atlas)\n"
    }

    @Test func closedPortIsAFailedCheckWithReasonRefused() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        let port = FaultyEndpoints.closedPort()
        try SyncctlProcess.writeEnv(env(local: "mongodb://127.0.0.1:\(port)/bomba"), in: dir)
        let run = try SyncctlProcess.run(["preflight", "--timeout", "2"], in: dir)
        #expect(run.status == 2)
        #expect(run.stdout.contains("✗ reachable"))
        #expect(run.stdout.contains("refused"))
    }

    @Test func silentServerIsAFailedCheckWithReasonTimeout() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        let listener = HangingListener()
        defer { listener.close() }
        try SyncctlProcess.writeEnv(env(local: "mongodb://127.0.0.1:\(listener.port)/bomba"), in: dir)
        let run = try SyncctlProcess.run(["preflight", "--timeout", "1", "--json"], in: dir)
        #expect(run.status == 2)
        let report = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        let checks = report?["checks"] as? [[String: Any]] ?? []
        let reachable = checks.first { $0["id"] as? String == "local.reachable" }
        #expect(reachable?["result"] as? String == "fail")
        #expect((reachable?["detail"] as? String)?.hasPrefix("timeout") == true)
        #expect(report?["ok"] as? Bool == false)
    }

    @Test func invalidURIExits78WithOneLine() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        try SyncctlProcess.writeEnv(env(local: "mongodb://user:secret@:bad:port:/bomba"), in: dir)
        let run = try SyncctlProcess.run(["preflight"], in: dir)
        #expect(run.status == 78)
        #expect(run.stderr.split(separator: "\n").count == 1)
        #expect(run.stderr.contains("MONGODB_LOCAL_URI"))
        #expect(!run.output.contains("secret"))
    }

    @Test func missingEnvFileExits66() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        let run = try SyncctlProcess.run(["preflight"], in: dir)
        #expect(run.status == 66)
        #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
        #expect(run.stderr.contains(".env"))
        let explicit = try SyncctlProcess.run(["preflight", "--env-file", "nowhere/.env", "--json"], in: dir)
        #expect(explicit.status == 66)
        #expect(explicit.stdout.contains("\"inputMissing\""))
    }

    @Test func passwordNeverAppearsInAnyOutput() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        let port = FaultyEndpoints.closedPort()
        try SyncctlProcess.writeEnv(
            env(local: "mongodb://admin:secret@127.0.0.1:\(port)/bomba", atlas: "mongodb://sync:secret%40x@127.0.0.1:\(port)/bomba?authSource=admin"),
            in: dir)
        for arguments in [["preflight", "--timeout", "1", "--phase", "2"], ["preflight", "--timeout", "1", "--json", "-vv"], ["config"], ["config", "--json"]] {
            let run = try SyncctlProcess.run(arguments, in: dir)
            #expect(!run.output.contains("secret"), "\(arguments) printed the password")
            #expect(run.status == 0 || run.status == 2)
        }
    }

    @Test func badPhaseIsACommandLineError() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        let run = try SyncctlProcess.run(["preflight", "--phase", "4"], in: dir)
        #expect(run.status == 64)
    }

    @Test(.enabled(if: TestServers.available, "needs the test servers"))
    func passesForPhasesOneAndTwoAgainstHealthyServers() async throws {
        try await withScratchDatabase(.local, "e2e") { local, database in
            try await local.insert([["_id": 1]], database: database, collection: "users")
            let dir = try SyncctlProcess.scratchDirectory()
            try SyncctlProcess.writeEnv(
                env(local: TestServers.uri(.local, database: database), atlas: TestServers.uri(.atlas, database: database)), in: dir)
            for phase in ["1", "2"] {
                let run = try SyncctlProcess.run(["preflight", "--phase", phase], in: dir)
                #expect(run.status == 0, "phase \(phase): \(run.output)")
                #expect(run.stdout.contains("ready"))
            }
            let quiet = try SyncctlProcess.run(["preflight", "--quiet"], in: dir)
            #expect(quiet.status == 0 && quiet.output.isEmpty)
        }
    }
}
