import Foundation

/// Where an interrupted full-sync stands, in `$SYNC_STATE_DIR/checkpoints/full-sync.json`:
/// the run's collections, their `_id` partitions, and for each partition the bound below
/// which every document is committed to Atlas. Rewritten atomically after each committed
/// batch, so a run killed at any moment (Ctrl-C, kill -9, Atlas gone) resumes from its last
/// batch; removed when the run completes.
public struct SyncCheckpoint: Codable, Sendable, Equatable {
    /// A checkpoint older than this is not resumed: the ranges it marks done were copied too
    /// long ago to trust (the run starts over instead).
    public static let maximumAge: TimeInterval = 24 * 3600

    public struct Partition: Codable, Sendable, Equatable {
        public let collection: String
        public let range: IDRange
        /// Everything below this bound is committed (nil: nothing yet, start at `range.lower`).
        public var resumeFrom: DocumentID?
        public var done: Bool
    }

    public var version = 1
    /// What the run is for; a checkpoint is resumed only by a run for the same.
    public let localDatabase: String
    public let atlasDatabase: String
    public let localURI: String
    public let atlasURI: String
    public let collections: [String]
    public let prune: Bool
    public let started: Date
    public var updated: Date
    /// Collections whose Atlas side (collection, options, indexes) is ready.
    public var prepared: [String] = []
    public var partitions: [Partition] = []

    /// Whether this checkpoint belongs to a run with `other`'s identity and is recent enough.
    func canResume(as other: SyncCheckpoint, now: Date = Date()) -> Bool {
        localDatabase == other.localDatabase && atlasDatabase == other.atlasDatabase && localURI == other.localURI
            && atlasURI == other.atlasURI && collections == other.collections && prune == other.prune
            && now.timeIntervalSince(updated) < SyncCheckpoint.maximumAge && !partitions.isEmpty
    }

    var partitionsDone: Int { partitions.filter(\.done).count }
}

/// Reads and writes one checkpoint file.
public struct CheckpointFile: Sendable {
    public let path: String

    public init(state: StateDirectory, name: String = "full-sync") {
        path = "\(state.checkpointsDirectory)/\(name).json"
    }

    /// The saved checkpoint; nil when there is none. A file that does not parse (it cannot be
    /// torn: it is replaced atomically, but it may come from another version) counts as none.
    public func load() -> SyncCheckpoint? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? StateJSON.decoder().decode(SyncCheckpoint.self, from: data)
    }

    public func save(_ checkpoint: SyncCheckpoint) throws(StateError) {
        try AtomicFile.makeDirectory(PathParts.parent(path))
        guard let data = try? StateJSON.encoder(pretty: true).encode(checkpoint) else {
            throw StateError(.unexpected, "cannot encode the full-sync checkpoint")
        }
        try AtomicFile.write(data, to: path)
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// The checkpoint of the running sync, shared by its workers: each committed batch moves a
/// partition's bound and writes the file.
actor CheckpointKeeper {
    private(set) var checkpoint: SyncCheckpoint
    private let file: CheckpointFile?

    init(_ checkpoint: SyncCheckpoint, file: CheckpointFile?) {
        self.checkpoint = checkpoint
        self.file = file
    }

    func save() throws(StateError) {
        checkpoint.updated = Date()
        try file?.save(checkpoint)
    }

    func markPrepared(_ collection: String) throws(StateError) {
        checkpoint.prepared.append(collection)
        try save()
    }

    func setPartitions(_ partitions: [SyncCheckpoint.Partition]) throws(StateError) {
        checkpoint.partitions = partitions
        try save()
    }

    /// Everything of partition `index` below `bound` is committed.
    func advance(_ index: Int, to bound: DocumentID?) throws(StateError) {
        guard let bound else { return }
        checkpoint.partitions[index].resumeFrom = bound
        try save()
    }

    func finish(_ index: Int) throws(StateError) {
        checkpoint.partitions[index].done = true
        try save()
    }
}
