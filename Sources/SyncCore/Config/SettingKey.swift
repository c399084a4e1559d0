/// Every setting syncctl reads, named as in the dotenv file the Node application shares, in the
/// order `syncctl config` lists them.
public enum SettingKey: String, CaseIterable, Sendable, Codable {
    /// Whether the sync is on. Boolean, default false.
    case syncEnabled = "SYNC_ENABLED"
    /// The local (primary) MongoDB; must name the database. Default mongodb://localhost:27017/bomba.
    case localURI = "MONGODB_LOCAL_URI"
    /// The Atlas cluster; empty means Atlas is not configured. Default empty.
    case atlasURI = "MONGODB_ATLAS_URI"
    /// The most operations the queue holds. Whole number ≥ 1, default 10000.
    case queueMaxSize = "SYNC_QUEUE_MAX_SIZE"
    /// Milliseconds between worker passes. Whole number ≥ 1, default 100.
    case workerInterval = "SYNC_WORKER_INTERVAL"
    /// Retries before an operation is given up. Whole number ≥ 0, default 5.
    case maxRetries = "SYNC_MAX_RETRIES"
    /// Whether the queue is persisted to disk. Boolean, default true.
    case persistQueue = "SYNC_PERSIST_QUEUE"
    /// Operations per batch. Whole number 1…100000, default 100.
    case batchSize = "SYNC_BATCH_SIZE"
    /// Collections never synced: comma-separated names. Default none.
    case excludedCollections = "SYNC_EXCLUDED_COLLECTIONS"
    /// Where locks, checkpoints, the journal and metrics live. Path, default `.syncctl`.
    case stateDir = "SYNC_STATE_DIR"
    /// The persisted queue. Path, default `<SYNC_STATE_DIR>/sync-queue.jsonl`.
    case queueFile = "SYNC_QUEUE_FILE"
    /// Where backups are written. Path, default `backups`.
    case backupDir = "SYNC_BACKUP_DIR"

    /// One line saying what the setting controls, for help and `syncctl config`.
    public var summary: String {
        switch self {
        case .syncEnabled: "whether local writes are synced to Atlas"
        case .localURI: "the local MongoDB, including the database (mongodb://host:27017/db)"
        case .atlasURI: "the Atlas cluster; empty when Atlas is not configured"
        case .queueMaxSize: "the most operations the sync queue holds"
        case .workerInterval: "milliseconds between sync worker passes"
        case .maxRetries: "retries before a failed operation is given up"
        case .persistQueue: "whether the sync queue is saved to disk"
        case .batchSize: "operations written to Atlas per batch"
        case .excludedCollections: "comma-separated collections that are never synced"
        case .stateDir: "directory for locks, checkpoints, the journal and metrics"
        case .queueFile: "file the persisted sync queue is written to"
        case .backupDir: "directory backups are written to"
        }
    }

    /// The default as text. `SYNC_QUEUE_FILE`'s default depends on `SYNC_STATE_DIR`, which this
    /// spells out rather than guessing the state directory.
    public var defaultDescription: String {
        switch self {
        case .syncEnabled: "false"
        case .localURI: Settings.defaultLocalURI
        case .atlasURI: ""
        case .queueMaxSize: "10000"
        case .workerInterval: "100"
        case .maxRetries: "5"
        case .persistQueue: "true"
        case .batchSize: "100"
        case .excludedCollections: ""
        case .stateDir: Settings.defaultStateDir
        case .queueFile: "<SYNC_STATE_DIR>/\(Settings.queueFileName)"
        case .backupDir: Settings.defaultBackupDir
        }
    }

    /// Whether the value is a connection string, which is shown only redacted.
    public var isConnectionString: Bool { self == .localURI || self == .atlasURI }
}
