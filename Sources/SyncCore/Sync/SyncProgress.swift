import Foundation
import Synchronization

/// What a scan of one collection has done so far. Full-sync and verify-consistency count the
/// same things; only committed work is counted, so a range redone after a retry is counted
/// once.
public struct CollectionCounters: Sendable, Codable, Equatable {
    /// Local documents when the run began (the server's count): the progress bar's 100 %.
    public var expected = 0
    /// Local documents read and compared.
    public var scanned = 0
    /// Documents identical on both sides.
    public var equal = 0
    /// Local documents Atlas did not have.
    public var missing = 0
    /// Documents on both sides whose bytes differed.
    public var different = 0
    /// Atlas documents local did not have.
    public var extra = 0
    /// Atlas documents seen.
    public var atlasDocuments = 0
    /// Writes Atlas acknowledged (full-sync; with `--dry-run`, the writes it would make).
    public var inserted = 0
    public var replaced = 0
    public var deleted = 0
    /// Writes Atlas refused (e.g. a unique index an Atlas-only document holds).
    public var writeErrors = 0

    public init() {}

    mutating func add(_ other: CollectionCounters) {
        scanned += other.scanned
        equal += other.equal
        missing += other.missing
        different += other.different
        extra += other.extra
        atlasDocuments += other.atlasDocuments
        inserted += other.inserted
        replaced += other.replaced
        deleted += other.deleted
        writeErrors += other.writeErrors
    }

    /// Documents written (or, in a dry run, to be written).
    public var written: Int { inserted + replaced + deleted }
}

/// Live progress of a scan, read by the terminal display while workers update it.
public final class SyncProgress: Sendable {
    public struct Entry: Sendable {
        public let name: String
        public let counters: CollectionCounters
        /// Seconds since the collection's first range began (0 before).
        public let seconds: Double
        public let finished: Bool
        public let firstWriteError: String?
    }

    private struct Collection {
        var counters = CollectionCounters()
        var started: ContinuousClock.Instant?
        var finished: ContinuousClock.Instant?
        var partsLeft = 0
        var firstWriteError: String?
    }

    private struct State {
        var order: [String] = []
        var collections: [String: Collection] = [:]
    }

    private let state = Mutex(State())
    private let clock = ContinuousClock()

    public init() {}

    /// Adds a collection to the display with its expected document count and how many
    /// partitions will work on it.
    func register(_ name: String, expected: Int, parts: Int) {
        state.withLock { state in
            if state.collections[name] == nil { state.order.append(name) }
            state.collections[name, default: Collection()].counters.expected = expected
            state.collections[name, default: Collection()].partsLeft = parts
            if parts == 0 {
                state.collections[name]?.started = clock.now
                state.collections[name]?.finished = clock.now
            }
        }
    }

    func partStarted(_ name: String) {
        state.withLock { state in
            if state.collections[name]?.started == nil { state.collections[name]?.started = clock.now }
        }
    }

    func partFinished(_ name: String) {
        state.withLock { state in
            state.collections[name]?.partsLeft -= 1
            if state.collections[name]?.partsLeft ?? 0 <= 0 { state.collections[name]?.finished = clock.now }
        }
    }

    func record(_ name: String, _ counters: CollectionCounters, writeError: String? = nil) {
        state.withLock { state in
            state.collections[name]?.counters.add(counters)
            if let writeError, state.collections[name]?.firstWriteError == nil {
                state.collections[name]?.firstWriteError = writeError
            }
        }
    }

    /// Every registered collection, in registration order.
    public func snapshot() -> [Entry] {
        let now = clock.now
        return state.withLock { state in
            state.order.compactMap { name in
                guard let collection = state.collections[name] else { return nil }
                let seconds = collection.started.map { ((collection.finished ?? now) - $0).seconds } ?? 0
                return Entry(name: name, counters: collection.counters, seconds: seconds, finished: collection.finished != nil,
                             firstWriteError: collection.firstWriteError)
            }
        }
    }
}
