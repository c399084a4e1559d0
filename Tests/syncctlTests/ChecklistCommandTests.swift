import Foundation
import SyncTestSupport
import Testing

/// `syncctl checklist` run as a binary.
struct ChecklistCommandTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private func healthyEnv(_ database: String) -> String {
        "SYNC_ENABLED=false\nMONGODB_LOCAL_URI=\(TestServers.uri(.local, database: database))\nMONGODB_ATLAS_URI=\(TestServers.uri(.atlas, database: database))\n"
    }

    private static func items(_ report: [String: Any]) -> [String: [String: Any]] {
        var result: [String: [String: Any]] = [:]
        for section in report["sections"] as? [[String: Any]] ?? [] {
            for item in section["items"] as? [[String: Any]] ?? [] {
                if let check = item["check"] as? String { result[check] = item }
            }
        }
        return result
    }

    @Test(.enabled(if: TestServers.available, "needs the test servers"))
    func phase1PassesAgainstTheTestServers() async throws {
        try await withScratchDatabase(.local, "checklist") { local, database in
            try await local.insert([["_id": 1]], database: database, collection: "users")
            let dir = try SyncctlProcess.scratchDirectory()
            try SyncctlProcess.writeEnv(healthyEnv(database), in: dir)
            let run = try SyncctlProcess.run(["checklist", "phase1"], in: dir)
            #expect(run.status == 0, "\(run.output)")
            #expect(run.stdout.contains("✓ MONGODB_LOCAL_URI reaches the local MongoDB"))
            #expect(run.stdout.contains("☐ It is deployed and restarted"))
            #expect(run.stdout.contains("all automatic items passed"))

            let json = try RolloutFixture.json(try SyncctlProcess.run(["checklist", "phase1", "--json"], in: dir))
            #expect(json["ok"] as? Bool == true)
            #expect(json["phase"] as? String == "phase1")
            #expect(Self.items(json)["atlas.write"]?["result"] as? String == "passed")
        }
    }

    @Test(.enabled(if: TestServers.available, "needs the test servers"))
    func phase1WithTheLocalServerStoppedFailsTheLocalItemsWithExit2() async throws {
        try await withScratchDatabase(.atlas, "checklist") { _, database in
            let dir = try SyncctlProcess.scratchDirectory()
            let closed = "mongodb://127.0.0.1:\(FaultyEndpoints.closedPort())/\(database)"
            try SyncctlProcess.writeEnv("SYNC_ENABLED=false\nMONGODB_LOCAL_URI=\(closed)\nMONGODB_ATLAS_URI=\(TestServers.uri(.atlas, database: database))\n", in: dir)
            let run = try SyncctlProcess.run(["checklist", "phase1", "--json"], in: dir)
            #expect(run.status == 2)
            let items = Self.items(try RolloutFixture.json(run))
            #expect(items["local.reachable"]?["result"] as? String == "failed")
            #expect((items["local.reachable"]?["detail"] as? String)?.contains("refused") == true)
            #expect(items["local.version"]?["result"] as? String == "not-checked")
            #expect(items["local.database"]?["result"] as? String == "not-checked")
            #expect(items["atlas.reachable"]?["result"] as? String == "passed")
            #expect(items["atlas.write"]?["result"] as? String == "passed")

            let signOff = try SyncctlProcess.run(["checklist", "phase1", "--sign-off", "Ana Ops"], in: dir)
            #expect(signOff.status == 2)
            #expect(signOff.stderr.contains("cannot sign off"))
            #expect(RolloutFixture.journal(dir).isEmpty)
        }
    }

    @Test func rollbackChecklistNeedsNoServerAndIsSignedOff() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        try SyncctlProcess.writeEnv("SYNC_ENABLED=true\nMONGODB_ATLAS_URI=mongodb://u:p@ss:x@h/db\n", in: dir)
        let before = try SyncctlProcess.run(["checklist", "rollback"], in: dir)
        #expect(before.status == 2)
        #expect(before.stdout.contains("✗ Sync is switched off"))
        #expect(before.stdout.contains("run `syncctl disable`"))

        #expect(try SyncctlProcess.run(["disable", "--yes"], in: dir).status == 0)
        let signOff = try SyncctlProcess.run(["checklist", "rollback", "--sign-off", "Ana Ops"], in: dir)
        #expect(signOff.status == 0, "\(signOff.output)")
        #expect(signOff.stdout.contains("signed off rollback by Ana Ops"))
        let entry = try #require(RolloutFixture.journal(dir).last)
        #expect(entry["command"] as? String == "sign-off")
        let details = entry["details"] as? [String: Any]
        #expect(details?["name"] as? String == "Ana Ops")
        #expect((details?["automatic"] as? [String: String])?["state.sync-disabled"] == "passed")

        let status = try SyncctlProcess.run(["status"], in: dir)
        #expect(status.stdout.contains("rollback ✓ Ana Ops"))
    }

    @Test func badArgumentsAndChecklistFiles() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        try SyncctlProcess.writeEnv("SYNC_ENABLED=false\n", in: dir)
        #expect(try SyncctlProcess.run(["checklist", "phase4"], in: dir).status == 64)
        #expect(try SyncctlProcess.run(["checklist", "rollback", "--sign-off", " "], in: dir).status == 64)

        let custom = dir.appendingPathComponent("lists")
        try FileManager.default.createDirectory(at: custom, withIntermediateDirectories: true)
        #expect(try SyncctlProcess.run(["checklist", "rollback", "--checklists", custom.path], in: dir).status == 66)
        try "# Ours\n## S\n- [ ] missing its marker\n".write(to: custom.appendingPathComponent("rollback.md"), atomically: true, encoding: .utf8)
        let broken = try SyncctlProcess.run(["checklist", "rollback", "--checklists", custom.path], in: dir)
        #expect(broken.status == 65)
        #expect(broken.stderr.contains("rollback.md:3"))
        try "# Our rollback\n## S\n- [ ] Sync off — auto: `syncctl status` fact `state.sync-disabled`\n".write(
            to: custom.appendingPathComponent("rollback.md"), atomically: true, encoding: .utf8)
        let ours = try SyncctlProcess.run(["checklist", "rollback", "--checklists", custom.path], in: dir)
        #expect(ours.status == 0)
        #expect(ours.stdout.contains("Our rollback"))
    }

    /// The copy compiled into the binary is the Markdown in Checklists/, not a second version.
    @Test(arguments: ["pre-deployment", "phase1", "phase2", "phase3", "post-deployment", "rollback"])
    func builtInChecklistsAreTheRepositoryFiles(phase: String) throws {
        let dir = try SyncctlProcess.scratchDirectory()
        try SyncctlProcess.writeEnv("SYNC_ENABLED=false\nMONGODB_LOCAL_URI=mongodb://127.0.0.1:\(FaultyEndpoints.closedPort())/bomba\n", in: dir)
        let builtIn = try RolloutFixture.json(try SyncctlProcess.run(["checklist", phase, "--json", "--timeout", "1"], in: dir))
        let fromFiles = try RolloutFixture.json(try SyncctlProcess.run(
            ["checklist", phase, "--json", "--timeout", "1", "--checklists", Self.repository.appendingPathComponent("Checklists").path], in: dir))
        func texts(_ report: [String: Any]) -> [String] {
            (report["sections"] as? [[String: Any]] ?? []).flatMap { ($0["items"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String } }
        }
        #expect(!texts(builtIn).isEmpty)
        #expect(texts(builtIn) == texts(fromFiles))
        #expect(builtIn["title"] as? String == fromFiles["title"] as? String)
    }

    @Test(.enabled(if: TestServers.available, "needs the test servers"))
    func ciSmokeScriptPassesAgainstTheTestServers() async throws {
        try await withScratchDatabase(.local, "smoke") { local, database in
            try await local.insert([["_id": 1]], database: database, collection: "users")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [Self.repository.appendingPathComponent("Examples/ci/syncctl-smoke.sh").path]
            process.environment = [
                "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
                "SYNCCTL": SyncctlProcess.binary.path,
                "MONGODB_LOCAL_URI": TestServers.uri(.local, database: database),
                "MONGODB_ATLAS_URI": TestServers.uri(.atlas, database: database),
            ]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(output)")
            #expect(output.contains("smoke test passed"))
        }
    }
}
