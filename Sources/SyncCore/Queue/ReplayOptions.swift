import Foundation

/// What replay does, from the settings (`ReplayOptions(settings:)`) or set by a test.
public struct ReplayOptions: Sendable {
    /// Lines per batch (`SYNC_BATCH_SIZE`).
    public var batchSize: Int
    /// Retries of an entry that fails for a reason retrying may not fix, before it is
    /// dead-lettered (`SYNC_MAX_RETRIES`): it is tried 1 + maxRetries times in all.
    public var maxRetries: Int
    /// How often `--follow` looks for new lines (`SYNC_WORKER_INTERVAL`).
    public var pollInterval: Duration
    /// Collections never replayed (`SYNC_EXCLUDED_COLLECTIONS`): their entries are skipped
    /// and counted.
    public var excludedCollections: Set<String>
    /// The database entries must name (the local URI's) and the one written on Atlas.
    public var localDatabase: String
    public var atlasDatabase: String
    /// Backoff between attempts.
    public var retry: RetryPolicy
    /// Consecutive failures to reach a server (or other transient failures) after which a
    /// one-shot replay stops, leaving the entries queued; nil retries for ever (`--follow`).
    public var transientAttemptLimit: Int?
    /// The active file is renamed aside once fully replayed and at least this long.
    public var rotateBytes: UInt64
    /// A rotated file is deleted once fully replayed and untouched for this long; an
    /// unfinished last line in a rotated file untouched for this long is dead-lettered.
    public var rotatedFileGrace: TimeInterval

    public init(batchSize: Int = 100, maxRetries: Int = 5, pollInterval: Duration = .milliseconds(100),
                excludedCollections: Set<String> = [], localDatabase: String, atlasDatabase: String,
                retry: RetryPolicy = RetryPolicy(), transientAttemptLimit: Int? = nil,
                rotateBytes: UInt64 = 1 << 20, rotatedFileGrace: TimeInterval = 60) {
        self.batchSize = batchSize
        self.maxRetries = maxRetries
        self.pollInterval = pollInterval
        self.excludedCollections = excludedCollections
        self.localDatabase = localDatabase
        self.atlasDatabase = atlasDatabase
        self.retry = retry
        self.transientAttemptLimit = transientAttemptLimit
        self.rotateBytes = rotateBytes
        self.rotatedFileGrace = rotatedFileGrace
    }

    /// The options the settings describe. A one-shot run gives up on an unreachable server
    /// after as many attempts as an entry gets (1 + `SYNC_MAX_RETRIES`).
    public init(settings: Settings, follow: Bool) {
        self.init(batchSize: settings.batchSize, maxRetries: settings.maxRetries,
                  pollInterval: .milliseconds(settings.workerIntervalMS),
                  excludedCollections: Set(settings.excludedCollections),
                  localDatabase: settings.localDatabase, atlasDatabase: settings.atlasDatabase,
                  transientAttemptLimit: follow ? nil : settings.maxRetries + 1)
    }
}
