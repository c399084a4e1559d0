import Foundation
import SyncTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `syncctl disable`, the emergency path: it must work when everything else is broken.
struct DisableCommandTests {
    @Test func disableWorksWithAMalformedAtlasURI() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        // Unencoded '@' and ':' in the password: libmongoc cannot parse it, Settings refuses it.
        let env = "SYNC_ENABLED=true\nMONGODB_ATLAS_URI=mongodb+srv://sync:p@ss:w0rd@cluster0.example.net/bomba\nSYNC_EXCLUDED_COLLECTIONS=bills\n"
        try SyncctlProcess.writeEnv(env, in: dir)
        let config = try SyncctlProcess.run(["config"], in: dir)
        #expect(config.status == 78, "the URI should be invalid for every other command: \(config.output)")

        let run = try SyncctlProcess.run(["disable", "--yes"], in: dir)
        #expect(run.status == 0, "\(run.output)")
        #expect(try RolloutFixture.read(dir) == env.replacingOccurrences(of: "SYNC_ENABLED=true", with: "SYNC_ENABLED=false"))
        #expect(!run.output.contains("w0rd"))
        let entry = try #require(RolloutFixture.journal(dir).last)
        #expect(entry["command"] as? String == "disable")
        #expect((entry["changes"] as? [String: [String: String]])?["SYNC_ENABLED"] == ["old": "true", "new": "false"])
    }

    @Test func offATerminalWithoutYesItRefusesInOneLineAndChangesNothing() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        let env = "SYNC_ENABLED=true\n"
        try SyncctlProcess.writeEnv(env, in: dir)
        let run = try SyncctlProcess.run(["disable"], in: dir)
        #expect(run.status == 64, "\(run.output)")
        #expect(run.stderr.split(separator: "\n").count == 1, "one line, no usage text: \(run.stderr)")
        #expect(run.stderr.contains("--yes"))
        #expect(try RolloutFixture.read(dir) == env)

        let json = try SyncctlProcess.run(["disable", "--json"], in: dir)
        #expect(json.status == 64)
        let document = try #require(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect((document["error"] as? [String: Any])?["kind"] as? String == "usage")
        #expect(document["exitCode"] as? Int == 64)
    }

    /// A process killed with SIGKILL leaves libmongoc's /dev/shm/mongoc-<pid> behind; any
    /// syncctl run sweeps it, so that a later process with that pid prints no driver warning.
    @Test(.enabled(if: FileManager.default.isWritableFile(atPath: "/dev/shm")))
    func aRunSweepsCounterSegmentsOfKilledProcesses() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        try SyncctlProcess.writeEnv("SYNC_ENABLED=true\n", in: dir)
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        let stale = "/dev/shm/mongoc-\(finished.processIdentifier)"
        guard FileManager.default.createFile(atPath: stale, contents: Data([0])) else { return }
        defer { try? FileManager.default.removeItem(atPath: stale) }
        // This test process loaded libmongoc too: its segment is alive and must stay.
        let own = "/dev/shm/mongoc-\(getpid())"
        let ownExisted = FileManager.default.fileExists(atPath: own)

        let run = try SyncctlProcess.run(["disable", "--dry-run"], in: dir)
        #expect(run.status == 0, "\(run.output)")
        #expect(!FileManager.default.fileExists(atPath: stale))
        if ownExisted { #expect(FileManager.default.fileExists(atPath: own)) }
    }

    @Test func disableNeverContactsAServer() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        let probe = HangingListener()
        defer { probe.close() }
        let uri = "mongodb://127.0.0.1:\(probe.port)/bomba"
        try SyncctlProcess.writeEnv("SYNC_ENABLED=true\nMONGODB_LOCAL_URI=\(uri)\nMONGODB_ATLAS_URI=\(uri)\n", in: dir)
        let run = try SyncctlProcess.run(["disable", "--yes", "--json"], in: dir)
        #expect(run.status == 0, "\(run.output)")
        #expect(try RolloutFixture.json(run)["written"] as? Bool == true)
        #expect(!probe.hasPendingConnection, "disable connected to a server")
        // The probe does see a command that connects: the test can fail.
        _ = try SyncctlProcess.run(["preflight", "--timeout", "1"], in: dir)
        #expect(probe.hasPendingConnection)
    }

    @Test func disableChangesOnlySyncEnabledInATrickyFile() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        let uris = RolloutFixture.closedURIs()
        try SyncctlProcess.writeEnv(RolloutFixture.trickyEnv(local: uris.local, atlas: uris.atlas, enabled: "'yes'"), in: dir)
        let run = try SyncctlProcess.run(["disable", "--yes"], in: dir)
        #expect(run.status == 0, "\(run.output)")
        #expect(try RolloutFixture.read(dir) == RolloutFixture.trickyEnv(local: uris.local, atlas: uris.atlas, enabled: "'false'"))
        #expect(try RolloutFixture.mode(dir) == 0o600)
        #expect(!run.output.contains("s3cr"))
    }

    @Test func alreadyDisabledIsANoOpThatStillRunsTheRestart() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        try SyncctlProcess.writeEnv("SYNC_ENABLED=false\n", in: dir)
        let run = try SyncctlProcess.run(["disable", "--yes"], in: dir)
        #expect(run.status == 0)
        #expect(run.stdout.contains("nothing to change"))
        #expect(RolloutFixture.journal(dir).isEmpty)
        // The operator may have edited the file by hand and only needs the restart.
        let restart = try SyncctlProcess.run(["disable", "--yes", "--restart", "echo restarted"], in: dir)
        #expect(restart.status == 0)
        #expect(restart.stdout.contains("| restarted"))
        let entry = try #require(RolloutFixture.journal(dir).last)
        #expect((entry["details"] as? [String: Any])?["unchanged"] as? Bool == true)
    }

    @Test func unwritableStateDirectoryCostsTheBackupNotTheRollback() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        try "a file, not a directory".write(to: dir.appendingPathComponent("blocked"), atomically: true, encoding: .utf8)
        try SyncctlProcess.writeEnv("SYNC_ENABLED=true\nSYNC_STATE_DIR=blocked/state\n", in: dir)
        let run = try SyncctlProcess.run(["disable", "--yes"], in: dir)
        #expect(run.status == 0, "\(run.output)")
        #expect(run.stderr.contains("warning"))
        #expect(try RolloutFixture.read(dir) == "SYNC_ENABLED=false\nSYNC_STATE_DIR=blocked/state\n")
    }

    /// On a terminal it shows the change and asks; only "y" writes. (`script` gives the binary a
    /// pseudo-terminal and types the answer.)
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "needs script(1) from util-linux"),
          arguments: [("n", Int32(1), "SYNC_ENABLED=true\n"), ("y", Int32(0), "SYNC_ENABLED=false\n"), ("", Int32(1), "SYNC_ENABLED=true\n")])
    func onATerminalItAsksBeforeWriting(answer: String, status: Int32, after: String) throws {
        let dir = try SyncctlProcess.scratchDirectory()
        try SyncctlProcess.writeEnv("SYNC_ENABLED=true\n", in: dir)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", "\(SyncctlProcess.binary.path) disable", "/dev/null"]
        process.currentDirectoryURL = dir
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": dir.path, "NO_COLOR": "1"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data("\(answer)\n".utf8))
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == status, "\(text)")
        #expect(text.contains("+SYNC_ENABLED=false"))
        #expect(text.contains("Write this change to .env? [y/N]"))
        #expect(try RolloutFixture.read(dir) == after)
    }

    @Test func missingEnvFileExits66() throws {
        let dir = try SyncctlProcess.scratchDirectory()
        let run = try SyncctlProcess.run(["disable", "--yes"], in: dir)
        #expect(run.status == 66)
        #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
        #expect(try SyncctlProcess.run(["disable", "--yes", "--env-file", "missing.env"], in: dir).status == 66)
    }
}
