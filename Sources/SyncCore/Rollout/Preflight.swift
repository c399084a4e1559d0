import Foundation

/// The checks an operator runs before each rollout phase (deployment checklist, Phase 1 and
/// the pre-deployment list). Every check ends in pass, fail, warn or skip with a one-line
/// detail; an unreachable server is a failed check, never a thrown error.
public struct Preflight: Sendable {
    /// The oldest MongoDB the sync system supports (checklist: "MongoDB 4.4+").
    public static let minimumServerVersion = ServerVersion(major: 4, minor: 4, patch: 0)
    /// Servers' clocks may differ this much before we warn.
    public static let maximumClockSkew: TimeInterval = 5
    /// Phase 3 wants a backup younger than this.
    public static let maximumBackupAge: TimeInterval = 24 * 3600
    /// Name of the scratch collection the Atlas write probe uses (never application data).
    public static let probeCollection = "syncctl_preflight_probe"

    public let settings: Settings
    public let phase: Int
    public let options: PoolOptions
    public let host: any PreflightHost

    public init(settings: Settings, phase: Int, options: PoolOptions = PoolOptions(),
                host: any PreflightHost = SystemPreflightHost()) {
        self.settings = settings
        self.phase = phase
        self.options = options
        self.host = host
    }

    /// What one server told us, or why it could not.
    struct ServerProbe: Sendable {
        var error: MongoError?
        var version: ServerVersion?
        var roundTrip: Duration?
        /// The server's clock minus ours, corrected by half the round trip.
        var clockOffset: TimeInterval?
        var databases: [String] = []
        var collections: [String] = []
    }

    /// Runs every check for the phase and returns them in checklist order.
    public func run() async -> [CheckOutcome] {
        var outcomes = settingsChecks()
        let connections: DualConnection
        do {
            connections = try DualConnection(settings: settings, options: options)
        } catch {
            outcomes.append(fail("local.reachable", "Local MongoDB", "reachable", error.message))
            return outcomes
        }
        defer { connections.close() }

        async let localProbe = probe(connections.local, database: settings.localDatabase)
        async let atlasProbe = probeIfConfigured(connections.atlas, database: settings.atlasDatabase)
        let local = await localProbe
        let atlas = await atlasProbe

        outcomes += localChecks(local)
        outcomes += await atlasChecks(atlas, connection: connections.atlas)
        outcomes += serverPairChecks(local: local, atlas: atlas)
        outcomes += await diskChecks(local: local, connection: connections.local)
        if phase >= 3 { outcomes += backupChecks() }
        outcomes += runtimeChecks()
        return outcomes
    }

    // MARK: Settings

    func settingsChecks() -> [CheckOutcome] {
        let section = "Settings"
        var outcomes: [CheckOutcome] = []
        let fromFile = settings.sources.values.filter { $0 == .file }.count
        let fromEnv = settings.sources.values.filter { $0 == .env }.count
        let fromFlags = settings.sources.values.filter { $0 == .flag }.count
        var origin = settings.envFile.map { "\(fromFile) from \($0)" } ?? "no .env file"
        if fromEnv > 0 { origin += ", \(fromEnv) from the environment" }
        if fromFlags > 0 { origin += ", \(fromFlags) from flags" }
        outcomes.append(pass("settings.valid", section, "settings valid", "every value valid (\(origin))"))

        if phase == 1 {
            outcomes.append(
                settings.syncEnabled
                    ? fail("settings.sync-disabled", section, "SYNC_ENABLED=false",
                           "SYNC_ENABLED is true; phase 1 deploys with sync off: run `syncctl disable` or edit the .env file")
                    : pass("settings.sync-disabled", section, "SYNC_ENABLED=false", "sync is disabled, as phase 1 requires"))
        } else {
            outcomes.append(pass("settings.sync-disabled", section, "SYNC_ENABLED",
                                 "SYNC_ENABLED=\(settings.syncEnabled) (phase \(phase) allows either)"))
        }

        if let envFile = settings.envFile {
            if let mode = host.permissions(of: envFile) {
                let octal = String(mode, radix: 8).leftPadded(to: 3)
                outcomes.append(
                    mode & 0o077 != 0
                        ? warn("env.permissions", section, ".env private",
                               "\(envFile) is mode \(octal) (readable by others; it holds the Atlas password): chmod 600 \(envFile)")
                        : pass("env.permissions", section, ".env private", "\(envFile) is mode \(octal)"))
            } else {
                outcomes.append(warn("env.permissions", section, ".env private", "cannot read the mode of \(envFile)"))
            }
        } else {
            outcomes.append(skip("env.permissions", section, ".env private", "no .env file in use"))
        }
        return outcomes
    }

    // MARK: Servers

    func probe(_ connection: MongoConnection, database: String) async -> ServerProbe {
        var result = ServerProbe()
        do {
            result.roundTrip = try await connection.ping()
            let sent = Date()
            let hello = try await connection.hello()
            let received = Date()
            if case .datetime(let ms)? = hello["localTime"] {
                let midpoint = sent.timeIntervalSince1970 + received.timeIntervalSince(sent) / 2
                result.clockOffset = Double(ms) / 1000 - midpoint
            }
            result.version = try await connection.serverVersion()
            result.databases = try await connection.databaseNames()
            if result.databases.contains(database) {
                result.collections = try await connection.collections(in: database).map(\.name)
            }
        } catch let error as MongoError {
            result.error = error
        } catch {
            result.error = MongoError(kind: .unexpected, reason: .other, message: "\(error)")
        }
        return result
    }

    func probeIfConfigured(_ connection: MongoConnection?, database: String) async -> ServerProbe? {
        guard let connection else { return nil }
        return await probe(connection, database: database)
    }

    func localChecks(_ local: ServerProbe) -> [CheckOutcome] {
        let section = "Local MongoDB"
        let where_ = settings.localURI.redacted
        var outcomes = serverReachability(local, id: "local", section: section, display: where_)
        guard local.error == nil else { return outcomes }
        let database = settings.localDatabase
        if local.databases.contains(database) {
            outcomes.append(pass("local.database", section, "database exists",
                                 "'\(database)' has \(local.collections.count) collection(s)"))
        } else {
            let others = local.databases.filter { !["admin", "config", "local"].contains($0) }
            outcomes.append(fail("local.database", section, "database exists",
                                 "no database '\(database)' on local (found: \(others.isEmpty ? "none" : others.joined(separator: ", "))); check the path of MONGODB_LOCAL_URI"))
        }
        let missing = settings.excludedCollections.filter { !local.collections.contains($0) }
        if settings.excludedCollections.isEmpty {
            outcomes.append(pass("settings.excluded-collections", section, "excluded collections exist",
                                 "SYNC_EXCLUDED_COLLECTIONS is empty: every collection syncs"))
        } else if missing.isEmpty {
            outcomes.append(pass("settings.excluded-collections", section, "excluded collections exist",
                                 "all \(settings.excludedCollections.count) exist: \(settings.excludedCollections.joined(separator: ", "))"))
        } else {
            outcomes.append(warn("settings.excluded-collections", section, "excluded collections exist",
                                 "not in '\(database)': \(missing.joined(separator: ", ")) (a typo in SYNC_EXCLUDED_COLLECTIONS?)"))
        }
        return outcomes
    }

    func atlasChecks(_ atlas: ServerProbe?, connection: MongoConnection?) async -> [CheckOutcome] {
        let section = "MongoDB Atlas"
        guard let atlas, let connection, let uri = settings.atlasURI else {
            let detail = "MONGODB_ATLAS_URI is empty"
            if phase >= 2 {
                return [fail("atlas.configured", section, "Atlas URI set", "\(detail); phase \(phase) needs it: add the connection string to the .env file")]
            }
            return [warn("atlas.configured", section, "Atlas URI set", "\(detail) (fine for phase 1; needed from phase 2)")]
        }
        var outcomes = [pass("atlas.configured", section, "Atlas URI set", uri.redacted)]
        outcomes += serverReachability(atlas, id: "atlas", section: section, display: uri.redacted)
        guard atlas.error == nil else { return outcomes }
        outcomes.append(await writeProbe(connection))
        return outcomes
    }

    /// Inserts and deletes one document in a scratch collection: proves the Atlas user may
    /// write to the target database without touching application data.
    func writeProbe(_ atlas: MongoConnection) async -> CheckOutcome {
        let section = "MongoDB Atlas"
        let database = settings.atlasDatabase
        let collection = Preflight.probeCollection
        let id = ObjectID.generate()
        do {
            let existedBefore = try await atlas.collections(in: database).contains { $0.name == collection }
            try await atlas.insert(
                [["_id": .objectID(id), "purpose": "syncctl preflight write probe", "at": .datetime(Int64(host.now.timeIntervalSince1970 * 1000))]],
                database: database, collection: collection)
            let deleted = try await atlas.deleteOne(["_id": .objectID(id)], database: database, collection: collection)
            if !existedBefore {
                try await atlas.dropCollection(collection, database: database)
            }
            guard deleted == 1 else {
                return fail("atlas.write", section, "user can write", "the probe document was inserted but not deleted")
            }
            return pass("atlas.write", section, "user can write", "inserted and deleted a probe document in \(database).\(collection)")
        } catch let error as MongoError {
            let hint = error.kind == .authentication ? " (the Atlas user needs readWrite on '\(database)')" : ""
            return fail("atlas.write", section, "user can write", "\(error.message)\(hint)")
        } catch {
            return fail("atlas.write", section, "user can write", "\(error)")
        }
    }

    func serverReachability(_ probe: ServerProbe, id: String, section: String, display: String) -> [CheckOutcome] {
        if let error = probe.error {
            return [fail("\(id).reachable", section, "reachable", "\(error.reason.rawValue): \(error.message)")]
        }
        var outcomes = [pass("\(id).reachable", section, "reachable",
                             "\(display) answered in \(Preflight.format(probe.roundTrip ?? .zero))")]
        if let version = probe.version {
            outcomes.append(
                version >= Preflight.minimumServerVersion
                    ? pass("\(id).version", section, "version ≥ 4.4", "MongoDB \(version)")
                    : fail("\(id).version", section, "version ≥ 4.4", "MongoDB \(version) is older than 4.4: upgrade the server"))
        }
        return outcomes
    }

    func serverPairChecks(local: ServerProbe, atlas: ServerProbe?) -> [CheckOutcome] {
        let section = "Servers"
        let title = "clocks agree"
        guard let atlas, let a = atlas.clockOffset, let l = local.clockOffset else {
            return [skip("clock.skew", section, title, "needs both servers reachable")]
        }
        let skew = abs(a - l)
        let text = String(format: "%.1f s", skew)
        return [skew > Preflight.maximumClockSkew
            ? warn("clock.skew", section, title, "local and Atlas clocks differ by \(text) (over 5 s: sync lag figures will be off; check NTP)")
            : pass("clock.skew", section, title, "local and Atlas clocks differ by \(text)")]
    }

    // MARK: Machine

    func diskChecks(local: ServerProbe, connection: MongoConnection) async -> [CheckOutcome] {
        let section = "Disk"
        let title = "free space ≥ 2 × data"
        let directory = settings.backupDir
        guard let free = host.freeBytes(at: directory) else {
            return [warn("disk.space", section, title, "cannot read free space at \(directory)")]
        }
        guard local.error == nil, local.databases.contains(settings.localDatabase) else {
            let why = local.error == nil ? "no local database" : "local unreachable"
            return [skip("disk.space", section, title, "\(Preflight.formatBytes(free)) free at \(directory); data size unknown (\(why))")]
        }
        do {
            let size = try await connection.dataSize(of: settings.localDatabase)
            let needed = 2 * size
            let text = "\(Preflight.formatBytes(free)) free at \(directory), data \(Preflight.formatBytes(size)), need \(Preflight.formatBytes(needed))"
            return [free >= needed ? pass("disk.space", section, title, text) : fail("disk.space", section, title, text + ": free space before the backup")]
        } catch {
            return [warn("disk.space", section, title, "cannot read the data size: \(error)")]
        }
    }

    func backupChecks() -> [CheckOutcome] {
        let section = "Backups"
        let title = "backup younger than 24 h"
        let directory = settings.backupDir
        guard let newest = host.newestBackup(in: directory) else {
            return [fail("backup.recent", section, title, "no backup in \(directory)/: take one before enabling sync (mongodump --out \(directory)/<date>)")]
        }
        let age = host.now.timeIntervalSince(newest.date)
        let text = "\(newest.path) is \(Preflight.formatAge(age)) old"
        return [age <= Preflight.maximumBackupAge ? pass("backup.recent", section, title, text) : fail("backup.recent", section, title, text + ": take a fresh backup")]
    }

    func runtimeChecks() -> [CheckOutcome] {
        let section = "Application runtime"
        var outcomes: [CheckOutcome] = []
        if let node = host.findExecutable("node"), let line = host.firstLine(of: node, arguments: ["--version"]) {
            let major = Int(line.drop { !$0.isNumber }.prefix { $0.isNumber }) ?? 0
            outcomes.append(major >= 18
                ? pass("runtime.node", section, "Node.js ≥ 18", "node \(line)")
                : warn("runtime.node", section, "Node.js ≥ 18", "node \(line) is older than 18 (the application needs 18+; syncctl does not)"))
        } else {
            outcomes.append(warn("runtime.node", section, "Node.js ≥ 18", "node not found on PATH (the application needs it; syncctl does not)"))
        }
        outcomes.append(host.findExecutable("pm2").map { pass("runtime.pm2", section, "process manager", "pm2 at \($0)") }
            ?? warn("runtime.pm2", section, "process manager", "pm2 not found on PATH (the checklist restarts the app with it)"))
        return outcomes
    }

    // MARK: Helpers

    private func pass(_ id: String, _ section: String, _ title: String, _ detail: String) -> CheckOutcome {
        CheckOutcome(id: id, section: section, title: title, result: .pass, detail: detail)
    }
    private func fail(_ id: String, _ section: String, _ title: String, _ detail: String) -> CheckOutcome {
        CheckOutcome(id: id, section: section, title: title, result: .fail, detail: detail)
    }
    private func warn(_ id: String, _ section: String, _ title: String, _ detail: String) -> CheckOutcome {
        CheckOutcome(id: id, section: section, title: title, result: .warn, detail: detail)
    }
    private func skip(_ id: String, _ section: String, _ title: String, _ detail: String) -> CheckOutcome {
        CheckOutcome(id: id, section: section, title: title, result: .skip, detail: detail)
    }

    static func format(_ duration: Duration) -> String {
        String(format: "%.1f ms", duration.seconds * 1000)
    }

    static func formatBytes(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f", value) + " " + units[unit]
    }

    static func formatAge(_ seconds: TimeInterval) -> String {
        if seconds < 3600 { return "\(Int(seconds / 60)) min" }
        if seconds < 48 * 3600 { return String(format: "%.1f h", seconds / 3600) }
        return "\(Int(seconds / 86400)) days"
    }
}
