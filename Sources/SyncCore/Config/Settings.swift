/// The effective configuration: every setting typed and validated, and where each value came from.
///
/// Precedence, highest first: command-line flag, process environment, dotenv file, default. A
/// variable that is present but empty still counts as set — it hides the levels below it — and an
/// empty value means the default (for `MONGODB_ATLAS_URI`: not configured; for
/// `SYNC_EXCLUDED_COLLECTIONS`: none). Relative paths are kept as given, relative to the working
/// directory like any command-line tool; `resolvePath(_:against:)` makes them absolute.
public struct Settings: Sendable {
    /// `MONGODB_LOCAL_URI`'s default.
    public static let defaultLocalURI = "mongodb://localhost:27017/bomba"
    /// `SYNC_STATE_DIR`'s default.
    public static let defaultStateDir = ".syncctl"
    /// The queue file's name inside the state directory, used when `SYNC_QUEUE_FILE` is not set.
    public static let queueFileName = "sync-queue.jsonl"
    /// `SYNC_BACKUP_DIR`'s default.
    public static let defaultBackupDir = "backups"

    /// `SYNC_ENABLED`.
    public let syncEnabled: Bool
    /// `MONGODB_LOCAL_URI`; always names a database.
    public let localURI: ConnectionString
    /// `MONGODB_ATLAS_URI`, or nil when Atlas is not configured.
    public let atlasURI: ConnectionString?
    /// `SYNC_QUEUE_MAX_SIZE`.
    public let queueMaxSize: Int
    /// `SYNC_WORKER_INTERVAL`, in milliseconds.
    public let workerIntervalMS: Int
    /// `SYNC_MAX_RETRIES`.
    public let maxRetries: Int
    /// `SYNC_PERSIST_QUEUE`.
    public let persistQueue: Bool
    /// `SYNC_BATCH_SIZE`.
    public let batchSize: Int
    /// `SYNC_EXCLUDED_COLLECTIONS`: trimmed, without empty entries or repeats, in the given order.
    public let excludedCollections: [String]
    /// `SYNC_STATE_DIR`, as given.
    public let stateDir: String
    /// `SYNC_QUEUE_FILE`, as given, or `<stateDir>/sync-queue.jsonl`.
    public let queueFile: String
    /// `SYNC_BACKUP_DIR`, as given.
    public let backupDir: String
    /// The database named by the local URI.
    public let localDatabase: String
    /// The database written on Atlas: the Atlas URI's own database if it names one (Atlas strings
    /// often do not), else the local database's name.
    public let atlasDatabase: String
    /// Where each setting's value came from; every key is present.
    public let sources: [SettingKey: SettingSource]
    /// The dotenv file that was read, if any.
    public let envFile: String?

    /// Resolves every setting from its sources, validates it, and registers the secrets of every
    /// connection string seen (effective or not) with `SecretScrubber.shared`.
    ///
    /// - Parameters:
    ///   - flags: values given on the command line.
    ///   - environment: the process environment (pass `ProcessInfo.processInfo.environment`).
    ///   - file: the parsed dotenv file, if one is used.
    /// - Throws: `ConfigError` (`.configuration`) for the first invalid setting, in `SettingKey`
    ///   order, naming the key, the value (redacted if it is a URI), where it came from and what
    ///   is allowed.
    public static func resolve(
        flags: [SettingKey: String], environment: [String: String], file: DotenvFile?
    ) throws(ConfigError) -> Settings {
        let reader = SettingReader(flags: flags, environment: environment, file: file)
        reader.registerConnectionStringSecrets()

        let syncEnabled = try reader.bool(.syncEnabled, default: false)
        let localURI = try reader.connectionString(.localURI) ?? ConnectionString.defaultLocal
        guard let localDatabase = localURI.database, !localDatabase.isEmpty else {
            throw reader.invalid(
                .localURI,
                "the local URI must name the database, e.g. mongodb://localhost:27017/bomba")
        }
        let atlasURI = try reader.connectionString(.atlasURI)
        let queueMaxSize = try reader.integer(.queueMaxSize, default: 10000, in: 1...Int.max)
        let workerIntervalMS = try reader.integer(.workerInterval, default: 100, in: 1...Int.max, unit: "milliseconds")
        let maxRetries = try reader.integer(.maxRetries, default: 5, in: 0...Int.max)
        let persistQueue = try reader.bool(.persistQueue, default: true)
        let batchSize = try reader.integer(.batchSize, default: 100, in: 1...100_000)
        let excludedCollections = try reader.collectionNames(.excludedCollections)
        let stateDir = try reader.path(.stateDir) ?? defaultStateDir
        let queueFile = try reader.path(.queueFile) ?? defaultQueueFile(stateDir: stateDir)
        let backupDir = try reader.path(.backupDir) ?? defaultBackupDir

        return Settings(
            syncEnabled: syncEnabled, localURI: localURI, atlasURI: atlasURI, queueMaxSize: queueMaxSize,
            workerIntervalMS: workerIntervalMS, maxRetries: maxRetries, persistQueue: persistQueue,
            batchSize: batchSize, excludedCollections: excludedCollections, stateDir: stateDir,
            queueFile: queueFile, backupDir: backupDir, localDatabase: localDatabase,
            atlasDatabase: atlasURI?.database.flatMap { $0.isEmpty ? nil : $0 } ?? localDatabase,
            sources: reader.sources, envFile: file?.path)
    }

    /// `path` made absolute against `base` (usually the working directory); absolute paths are
    /// returned unchanged. Purely textual: nothing is looked up on disk.
    public static func resolvePath(_ path: String, against base: String) -> String {
        path.hasPrefix("/") ? path : joinPath(base, path)
    }

    /// Every setting in `SettingKey` order, as `syncctl config` shows it: connection strings
    /// redacted, an unconfigured Atlas URI as "", lists comma-joined.
    public func effectiveValues() -> [(key: SettingKey, display: String, source: SettingSource)] {
        SettingKey.allCases.map { key in
            (key: key, display: display(key), source: sources[key] ?? .default)
        }
    }

    private func display(_ key: SettingKey) -> String {
        switch key {
        case .syncEnabled: String(syncEnabled)
        case .localURI: localURI.redacted
        case .atlasURI: atlasURI?.redacted ?? ""
        case .queueMaxSize: String(queueMaxSize)
        case .workerInterval: String(workerIntervalMS)
        case .maxRetries: String(maxRetries)
        case .persistQueue: String(persistQueue)
        case .batchSize: String(batchSize)
        case .excludedCollections: excludedCollections.joined(separator: ",")
        case .stateDir: stateDir
        case .queueFile: queueFile
        case .backupDir: backupDir
        }
    }

    private static func joinPath(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// `SYNC_QUEUE_FILE`'s default: the queue file in the state directory.
    static func defaultQueueFile(stateDir: String) -> String {
        joinPath(stateDir, queueFileName)
    }
}

extension ConnectionString {
    /// The default local string, which is valid by construction.
    static let defaultLocal: ConnectionString = {
        guard case .success(let value) = parse(Settings.defaultLocalURI) else {
            preconditionFailure("the default MONGODB_LOCAL_URI does not parse")
        }
        return value
    }()
}
