import Foundation

/// What verify-consistency found: plain records, per collection (migration-verifier's
/// "results as data").
public struct ConsistencyReport: Sendable, Codable {
    public enum Mode: String, Sendable, Codable, CaseIterable {
        /// Document counts on both sides (the seeds' script).
        case count
        /// Every document compared by its bytes.
        case deep
    }

    public enum Status: String, Sendable, Codable {
        case consistent
        /// Counts or documents differ.
        case different
        /// The collection exists locally but not in Atlas.
        case missingInAtlas = "missing-in-atlas"
        /// The collection exists only in Atlas.
        case onlyInAtlas = "only-in-atlas"
        /// In `SYNC_EXCLUDED_COLLECTIONS`: not compared.
        case excluded
    }

    public enum Kind: String, Sendable, Codable {
        case missingInAtlas = "missing-in-atlas"
        case extraInAtlas = "extra-in-atlas"
        case different
    }

    /// One differing document shown (`--show N`).
    public struct Sample: Sendable, Codable {
        /// The `_id` as relaxed Extended JSON.
        public let id: String
        public let kind: Kind
        /// For `different`: the fields that differ.
        public let fields: [FieldDifference]
    }

    public struct Collection: Sendable, Codable {
        public let name: String
        public var status: Status
        /// Count mode: the servers' counts. Deep mode: documents read from each side.
        public var localCount = 0
        public var atlasCount = 0
        /// Deep mode: differences that persisted through the re-checks.
        public var missingInAtlas = 0
        public var extraInAtlas = 0
        public var different = 0
        /// Deep mode: documents still being written during every re-check: neither reported
        /// as different nor confirmed equal.
        public var changing = 0
        /// The first `--show` differences, with the fields that differ.
        public var samples: [Sample] = []
        /// With `--repair`: documents written to Atlas, and differences left afterwards.
        public var repaired: Int?
        public var remaining: Int?
        public var seconds = 0.0

        public init(name: String, status: Status) {
            self.name = name
            self.status = status
        }

        public var differences: Int { missingInAtlas + extraInAtlas + different }
    }

    public let mode: Mode
    public let localDatabase: String
    public let atlasDatabase: String
    public let repair: Bool
    public var collections: [Collection] = []
    public var seconds = 0.0

    /// True when every compared collection matched (after repair, if it repaired).
    public var consistent: Bool {
        collections.allSatisfy { $0.status == .consistent || $0.status == .excluded }
    }

    public var differences: Int { collections.reduce(0) { $0 + $1.differences } }
    public var repaired: Int { collections.reduce(0) { $0 + ($1.repaired ?? 0) } }

    /// `syncctl_verify_differences{collection}` for every compared collection, as found
    /// (before any repair); count mode: the difference of the counts.
    public var metricSamples: [MetricSample] {
        collections.filter { $0.status != .excluded }.map { collection in
            let differences = mode == .count ? abs(collection.localCount - collection.atlasCount) : collection.differences
            return MetricSample(
                MetricNames.verifyDifferences, Double(differences), labels: ["collection": collection.name],
                help: "Documents missing, extra or different in Atlas at the last verify-consistency (count mode: the count difference).")
        }
    }
}
