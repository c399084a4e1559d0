/// The few settings that `disable`, `status` and the checklists' state facts need, read with the
/// same precedence as `Settings` (flag > environment > dotenv file > default) but WITHOUT
/// validating anything else: the emergency path must work when `MONGODB_ATLAS_URI` is malformed,
/// so a bad value of an unrelated key never stops it. A bad value of a key read here is reported
/// in `problems` instead of thrown.
public struct RolloutSettings: Sendable {
    /// The dotenv file read, if any.
    public let envFile: String?
    /// `SYNC_ENABLED`, or nil when its value is not a boolean (see `problems`).
    public let syncEnabled: Bool?
    /// Where `SYNC_ENABLED` came from.
    public let syncEnabledSource: SettingSource
    /// `SYNC_EXCLUDED_COLLECTIONS`, parsed as `Settings` does; empty when invalid.
    public let excludedCollections: [String]
    /// Where `SYNC_EXCLUDED_COLLECTIONS` came from.
    public let excludedCollectionsSource: SettingSource
    /// `SYNC_STATE_DIR`, as given.
    public let stateDir: String
    /// `SYNC_QUEUE_FILE`, or `<SYNC_STATE_DIR>/sync-queue.jsonl`.
    public let queueFile: String
    /// One line per invalid value among the keys read here (never about other keys).
    public let problems: [String]

    /// The state directory (journal, locks, backups of the dotenv file).
    public var state: StateDirectory { StateDirectory(path: stateDir) }

    /// Reads the rollout keys. Never throws: an invalid value becomes a line in `problems`, and
    /// the default applies. Registers the secrets of every connection string seen with
    /// `SecretScrubber.shared`, as `Settings.resolve` does, because `--dry-run` and `status`
    /// may print parts of the file.
    public static func read(flags: [SettingKey: String], environment: [String: String], file: DotenvFile?) -> RolloutSettings {
        let reader = SettingReader(flags: flags, environment: environment, file: file)
        reader.registerConnectionStringSecrets()
        var problems: [String] = []
        func attempt<T>(_ read: () throws(ConfigError) -> T, fallback: T) -> T {
            do {
                return try read()
            } catch {
                problems.append(error.message)
                return fallback
            }
        }
        let enabled: Bool? = attempt({ () throws(ConfigError) -> Bool? in try reader.bool(.syncEnabled, default: false) }, fallback: nil)
        let excluded = attempt({ () throws(ConfigError) in try reader.collectionNames(.excludedCollections) }, fallback: [])
        let stateDir = attempt({ () throws(ConfigError) in try reader.path(.stateDir) }, fallback: nil) ?? Settings.defaultStateDir
        let queueFile = attempt({ () throws(ConfigError) in try reader.path(.queueFile) }, fallback: nil)
            ?? Settings.defaultQueueFile(stateDir: stateDir)
        let sources = reader.sources
        return RolloutSettings(
            envFile: file?.path, syncEnabled: enabled, syncEnabledSource: sources[.syncEnabled] ?? .default,
            excludedCollections: excluded, excludedCollectionsSource: sources[.excludedCollections] ?? .default,
            stateDir: stateDir, queueFile: queueFile, problems: problems)
    }

    /// Collection names as `SYNC_EXCLUDED_COLLECTIONS` takes them (trimmed, empty entries and
    /// repeats dropped, MongoDB's naming rules checked), for names given on the command line.
    ///
    /// - Throws: `ConfigError` (`.configuration`) naming the offending name.
    public static func collectionNames(_ list: String, option: String) throws(ConfigError) -> [String] {
        let reader = SettingReader(flags: [.excludedCollections: list], environment: [:], file: nil)
        do {
            return try reader.collectionNames(.excludedCollections)
        } catch {
            // The reader phrases it for the setting; say which option it came from instead.
            throw ConfigError(.configuration, "\(option): " + error.message.replacingOccurrences(of: "SYNC_EXCLUDED_COLLECTIONS=", with: ""))
        }
    }
}
