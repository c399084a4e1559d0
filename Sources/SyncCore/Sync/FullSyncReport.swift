import Foundation

/// What a full-sync did (or, with `--dry-run`, would do), per collection.
public struct FullSyncReport: Sendable, Codable {
    public enum Status: String, Sendable, Codable {
        /// Compared and brought equal (or found equal).
        case synced
        /// In `SYNC_EXCLUDED_COLLECTIONS`: never read nor written.
        case excluded
        /// Only in Atlas: syncctl never drops a collection, so it is left as it is.
        case atlasOnly = "atlas-only"
    }

    public struct Collection: Sendable, Codable {
        public let name: String
        public let status: Status
        /// Created in Atlas by this run (with local's options and indexes).
        public var created = false
        /// Index names created in Atlas by this run.
        public var indexesCreated: [String] = []
        public var scanned = 0
        public var equal = 0
        public var inserted = 0
        public var replaced = 0
        public var deleted = 0
        /// Atlas-only documents kept because of `--no-prune`.
        public var keptInAtlas = 0
        public var writeErrors = 0
        public var firstWriteError: String?
        public var seconds = 0.0
        /// Things the operator should know (index or option differences syncctl does not change).
        public var warnings: [String] = []

        public init(name: String, status: Status) {
            self.name = name
            self.status = status
        }

        public var written: Int { inserted + replaced + deleted }
    }

    /// When a run continued an interrupted one.
    public struct Resume: Sendable, Codable {
        /// When the interrupted run began.
        public let started: Date
        public let partitionsDone: Int
        public let partitions: Int
    }

    public let localDatabase: String
    public let atlasDatabase: String
    public let dryRun: Bool
    public let prune: Bool
    public let workers: Int
    public var collections: [Collection] = []
    public var resumed: Resume?
    /// Why an existing checkpoint was not used (a run with other collections, or too old).
    public var checkpointDiscarded: String?
    public var seconds = 0.0

    // Totals over every collection (excluded and Atlas-only ones count zero).
    public var documentsScanned: Int { total(\.scanned) }
    public var documentsEqual: Int { total(\.equal) }
    public var documentsInserted: Int { total(\.inserted) }
    public var documentsReplaced: Int { total(\.replaced) }
    public var documentsDeleted: Int { total(\.deleted) }
    public var documentsWritten: Int { total(\.written) }
    public var writeErrors: Int { total(\.writeErrors) }

    private func total(_ count: KeyPath<Collection, Int>) -> Int {
        collections.reduce(0) { $0 + $1[keyPath: count] }
    }
}
