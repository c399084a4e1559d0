import Foundation
import Testing

@testable import SyncCore

/// A machine with whatever disk, files and programs a test needs.
struct FakeHost: PreflightHost {
    var free: Int64? = 1 << 40
    var modes: [String: UInt16] = [:]
    var executables: [String: String] = [:]
    var versions: [String: String] = [:]
    var backup: (path: String, date: Date)?
    var now = Date(timeIntervalSince1970: 1_800_000_000)

    func freeBytes(at path: String) -> Int64? { free }
    func permissions(of path: String) -> UInt16? { modes[path] }
    func findExecutable(_ name: String) -> String? { executables[name] }
    func firstLine(of executable: String, arguments: [String]) -> String? { versions[executable] }
    func newestBackup(in directory: String) -> (path: String, date: Date)? { backup }
}

private func settings(_ file: String = "", env: [String: String] = [:]) throws -> Settings {
    try Settings.resolve(flags: [:], environment: env, file: DotenvFile(text: file, path: ".env"))
}

private func outcome(_ id: String, in outcomes: [CheckOutcome]) -> CheckOutcome? {
    outcomes.first { $0.id == id }
}

@Test func phaseOneFailsWhenSyncIsEnabled() throws {
    let preflight = Preflight(settings: try settings("SYNC_ENABLED=true\n"), phase: 1, host: FakeHost())
    let check = outcome("settings.sync-disabled", in: preflight.settingsChecks())
    #expect(check?.result == .fail)
    #expect(check?.detail.contains("syncctl disable") == true)
    let phaseTwo = Preflight(settings: try settings("SYNC_ENABLED=true\n"), phase: 2, host: FakeHost())
    #expect(outcome("settings.sync-disabled", in: phaseTwo.settingsChecks())?.result == .pass)
}

@Test func envFileReadableByOthersIsAWarning() throws {
    let open = Preflight(settings: try settings(), phase: 1, host: FakeHost(modes: [".env": 0o644]))
    let check = outcome("env.permissions", in: open.settingsChecks())
    #expect(check?.result == .warn)
    #expect(check?.detail.contains("chmod 600") == true)
    let closed = Preflight(settings: try settings(), phase: 1, host: FakeHost(modes: [".env": 0o600]))
    #expect(outcome("env.permissions", in: closed.settingsChecks())?.result == .pass)
}

@Test func settingsOriginCountsFileAndEnvironment() throws {
    let preflight = Preflight(settings: try settings("SYNC_BATCH_SIZE=5\n", env: ["SYNC_MAX_RETRIES": "2"]), phase: 1, host: FakeHost())
    let detail = outcome("settings.valid", in: preflight.settingsChecks())?.detail ?? ""
    #expect(detail.contains("1 from .env") && detail.contains("1 from the environment"))
}

@Test func phaseThreeNeedsABackupYoungerThanADay() throws {
    var host = FakeHost()
    let none = Preflight(settings: try settings(), phase: 3, host: host).backupChecks()
    #expect(none.first?.result == .fail)
    host.backup = ("backups/old", host.now.addingTimeInterval(-30 * 3600))
    #expect(Preflight(settings: try settings(), phase: 3, host: host).backupChecks().first?.result == .fail)
    host.backup = ("backups/fresh", host.now.addingTimeInterval(-2 * 3600))
    let fresh = Preflight(settings: try settings(), phase: 3, host: host).backupChecks().first
    #expect(fresh?.result == .pass)
    #expect(fresh?.detail.contains("backups/fresh") == true)
}

@Test func oldOrMissingNodeAndMissingPm2OnlyWarn() throws {
    let old = FakeHost(executables: ["node": "/usr/bin/node"], versions: ["/usr/bin/node": "v16.20.0"])
    let oldChecks = Preflight(settings: try settings(), phase: 1, host: old).runtimeChecks()
    #expect(outcome("runtime.node", in: oldChecks)?.result == .warn)
    #expect(outcome("runtime.pm2", in: oldChecks)?.result == .warn)
    let good = FakeHost(executables: ["node": "/n", "pm2": "/p"], versions: ["/n": "v20.11.1"])
    let goodChecks = Preflight(settings: try settings(), phase: 1, host: good).runtimeChecks()
    #expect(goodChecks.allSatisfy { $0.result == .pass })
    let missing = Preflight(settings: try settings(), phase: 1, host: FakeHost()).runtimeChecks()
    #expect(outcome("runtime.node", in: missing)?.detail.contains("not found") == true)
}

@Test func clockSkewOverFiveSecondsWarns() throws {
    let preflight = Preflight(settings: try settings(), phase: 2, host: FakeHost())
    var local = Preflight.ServerProbe()
    local.clockOffset = 0.2
    var atlas = Preflight.ServerProbe()
    atlas.clockOffset = 7.5
    #expect(preflight.serverPairChecks(local: local, atlas: atlas).first?.result == .warn)
    atlas.clockOffset = 1.0
    #expect(preflight.serverPairChecks(local: local, atlas: atlas).first?.result == .pass)
    #expect(preflight.serverPairChecks(local: local, atlas: nil).first?.result == .skip)
}

@Test func olderServerVersionFailsTheVersionCheck() throws {
    let preflight = Preflight(settings: try settings(), phase: 1, host: FakeHost())
    var probe = Preflight.ServerProbe()
    probe.version = ServerVersion(major: 4, minor: 2, patch: 25)
    probe.roundTrip = .milliseconds(1)
    let checks = preflight.serverReachability(probe, id: "local", section: "Local MongoDB", display: "x")
    #expect(outcome("local.version", in: checks)?.result == .fail)
    #expect(outcome("local.version", in: checks)?.detail.contains("4.2.25") == true)
}
