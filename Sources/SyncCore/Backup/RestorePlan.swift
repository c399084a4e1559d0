import Foundation

/// What a restore will do to each collection, decided before anything is touched so the
/// operator can be told (and asked) first.
public struct RestoreTarget: Sendable, Encodable, Equatable {
    public enum Action: String, Sendable, Encodable {
        /// The collection does not exist: it is created.
        case create
        /// It exists and is empty: it is dropped and created again with the backup's
        /// options and indexes (no document is lost).
        case replaceEmpty = "replace-empty"
        /// It holds documents: only with `--drop` (and confirmation) is it dropped.
        case drop
        /// It was left half-restored by an interrupted restore of the same backup into the
        /// same database: it is dropped and restored again.
        case resume
    }

    public let name: String
    /// "collection" or "view".
    public let type: String
    public let action: Action
    /// Documents in the target now (nil when it does not exist).
    public let existingDocuments: Int64?
    /// Documents the backup holds for it, when the backup says (syncctl manifests).
    public let backupDocuments: Int64?
    /// Secondary indexes that will be created.
    public let indexes: Int
}

/// A restore decided but not yet started.
public struct RestorePlan: Sendable {
    public let input: DumpInput
    public let sourceDatabase: String
    public let targetDatabase: String
    public let collections: [DumpCollection]
    public let targets: [RestoreTarget]
    /// When an interrupted restore of the same backup into the same database started.
    public let resuming: Date?

    /// Collections holding documents that a restore would drop: `--drop` is needed for them.
    public var nonEmptyTargets: [RestoreTarget] { targets.filter { $0.action == .drop } }
}

/// Written before a restore changes anything and removed when it has finished: a restore
/// killed half-way leaves it behind, so running the same restore again knows which
/// non-empty collections are its own unfinished work rather than data to protect.
struct RestoreCheckpoint: Codable {
    var source: String
    var targetDatabase: String
    var collections: [String]
    var startedAt: Date

    static func path(in state: StateDirectory, database: String) -> String {
        "\(state.checkpointsDirectory)/restore-\(database).json"
    }

    static func load(from state: StateDirectory, database: String) -> RestoreCheckpoint? {
        guard let data = FileManager.default.contents(atPath: path(in: state, database: database)) else { return nil }
        return try? StateJSON.decoder().decode(RestoreCheckpoint.self, from: data)
    }

    func save(in state: StateDirectory) throws(BackupError) {
        do {
            try state.prepare("checkpoints")
            try AtomicFile.write(try StateJSON.encoder().encode(self), to: RestoreCheckpoint.path(in: state, database: targetDatabase))
        } catch let error as StateError {
            throw BackupError(error.kind, error.message)
        } catch {
            throw BackupError(.cannotWrite, "cannot write the restore checkpoint: \(error)")
        }
    }

    static func remove(from state: StateDirectory, database: String) {
        unlink(path(in: state, database: database))
    }
}
