import Foundation
import Logging
import Synchronization

/// A request to stop, checked between batches and while waiting: the batch in hand is
/// finished (or, if it is still waiting for a server, left uncommitted for the next run).
public final class StopSignal: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    public func stop() { flag.store(true, ordering: .sequentiallyConsistent) }

    public var isStopped: Bool { flag.load(ordering: .sequentiallyConsistent) || Task.isCancelled }

    /// Waits for `duration`, returning early once stopped.
    public func sleep(for duration: Duration) async {
        let clock = ContinuousClock()
        let deadline = clock.now + duration
        while !isStopped, clock.now < deadline {
            try? await Task.sleep(for: min(.milliseconds(20), deadline - clock.now))
        }
    }
}

/// An entry that reached Atlas, for callers measuring end-to-end sync time.
public struct AppliedEntry: Sendable {
    public let id: UUID
    /// The entry's time (when the application wrote locally).
    public let time: Date
    /// When Atlas acknowledged the write that carried it.
    public let acknowledged: ContinuousClock.Instant
}

/// What one replay run did.
public struct ReplayRunSummary: Sendable, Codable, Equatable {
    public var batches = 0
    /// Entries read (lines, blank ones aside).
    public var entries = 0
    public var totals = ReplayTotals()
    /// Entry time → Atlas acknowledgement, for the entries this run applied.
    public var syncTime: LatencySummary?

    public init() {}
}

/// The replay worker: drains the queue into Atlas batch by batch.
///
/// For each batch: read up to `batchSize` lines; dead-letter lines that do not parse; skip
/// entries of excluded collections; coalesce entries by document; make Atlas match local
/// for each document (`ReplayApplier`), retrying transient failures with backoff without
/// limit (or up to `transientAttemptLimit`) and other failures `maxRetries` times before
/// dead-lettering them; save dead letters; then commit the batch's progress and counters in
/// one atomic write. Nothing is committed before Atlas acknowledged, so a kill at any point
/// only means the batch is replayed again, which converges to the same state.
public final class ReplayWorker {
    public let files: QueueFiles
    public let options: ReplayOptions
    private let applier: any ReplayApplier
    private let consumer: QueueConsumer
    private let deadLetters: DeadLetterFile
    private let logger: Logger
    private let onApplied: (@Sendable ([AppliedEntry]) -> Void)?
    private var runSummary = ReplayRunSummary()
    private var syncTimes = LatencyRecorder()
    private var lastIdleRecord = Date.distantPast

    /// - Parameter onApplied: called after each commit with the entries it applied.
    public init(files: QueueFiles, applier: any ReplayApplier, options: ReplayOptions,
                logger: Logger = Logger(label: "syncctl.replay"),
                onApplied: (@Sendable ([AppliedEntry]) -> Void)? = nil) throws(StateError) {
        self.files = files
        self.applier = applier
        self.options = options
        self.logger = logger
        self.onApplied = onApplied
        self.consumer = try QueueConsumer(files: files, logger: logger)
        self.deadLetters = DeadLetterFile(files: files)
    }

    /// What this worker has done so far.
    public var summary: ReplayRunSummary {
        var summary = runSummary
        summary.syncTime = syncTimes.summary
        return summary
    }

    /// Replays until a batch comes back short of `batchSize` (the queue was caught up).
    public func drain(stop: StopSignal = StopSignal()) async throws -> ReplayRunSummary {
        var last = BatchResult.empty
        while !stop.isStopped {
            last = try await processBatch(stop: stop)
            if last != .full { break }
        }
        // A batch that ran has maintained the files already.
        if last == .empty || last == .abandoned {
            try consumer.maintain(rotateBytes: options.rotateBytes, grace: options.rotatedFileGrace)
        }
        return summary
    }

    /// Replays as new lines arrive, looking every `pollInterval`, until `stop`.
    /// - Parameter heartbeat: called about every `heartbeatInterval` with the summary so far.
    public func follow(stop: StopSignal, heartbeatInterval: Duration = .seconds(10),
                       heartbeat: ((ReplayRunSummary) -> Void)? = nil) async throws -> ReplayRunSummary {
        let clock = ContinuousClock()
        var nextHeartbeat = clock.now + heartbeatInterval
        while !stop.isStopped {
            let result = try await processBatch(stop: stop)
            if result != .full {
                // A batch that ran has maintained the files already.
                if result == .empty || result == .abandoned {
                    try consumer.maintain(rotateBytes: options.rotateBytes, grace: options.rotatedFileGrace)
                }
                try recordIdle()
                await stop.sleep(for: options.pollInterval)
            }
            if clock.now >= nextHeartbeat {
                heartbeat?(summary)
                nextHeartbeat = clock.now + heartbeatInterval
            }
        }
        return summary
    }

    /// Keeps `lastActivity` fresh while idle (at most every 5 s), so status can tell a
    /// running worker from a stopped one.
    private func recordIdle() throws {
        let now = Date()
        guard now.timeIntervalSince(lastIdleRecord) >= 5 else { return }
        lastIdleRecord = now
        try consumer.record { $0.lastActivity = now }
    }

    public enum BatchResult: Sendable, Equatable {
        /// Nothing was pending.
        case empty
        /// A batch shorter than `batchSize`: the queue is caught up.
        case partial
        /// A full batch: more may be waiting.
        case full
        /// Stopped while waiting to retry: nothing committed, the batch will be replayed.
        case abandoned
    }

    private struct Pending {
        let item: QueueConsumer.Batch.Item
        let entry: QueueEntry
    }

    /// Reads, applies and commits one batch.
    public func processBatch(stop: StopSignal = StopSignal()) async throws -> BatchResult {
        let batch = try consumer.readBatch(maxLines: options.batchSize, tornLineGrace: options.rotatedFileGrace)
        if batch.isEmpty { return .empty }
        var delta = ReplayTotals()
        var letters: [DeadLetter] = []
        var groups: [ReplayTarget: [Pending]] = [:]
        var order: [ReplayTarget] = []
        var entries = 0
        for item in batch.items where !item.line.isBlank || item.torn {
            entries += 1
            let entry: QueueEntry
            switch QueueLineCheck.entry(of: item, localDatabase: options.localDatabase) {
            case .success(let parsed):
                entry = parsed
            case .failure(let problem):
                letters.append(DeadLetter(line: item.line, segment: item.segment, reason: problem.text, entry: problem.entry))
                continue
            }
            if options.excludedCollections.contains(entry.collection) {
                delta.skipped += 1
                continue
            }
            let target = ReplayTarget(collection: entry.collection, id: entry.documentID)
            if groups[target] == nil { order.append(target) }
            groups[target, default: []].append(Pending(item: item, entry: entry))
        }
        delta.coalesced = groups.values.reduce(0) { $0 + $1.count } - groups.count

        guard let applied = try await applyWithRetries(order, groups: groups, stop: stop, delta: &delta) else {
            return .abandoned
        }
        let acknowledged = ContinuousClock.now
        let acknowledgedAt = Date()
        var appliedEntries: [AppliedEntry] = []
        var millis: [Int] = []
        for target in order {
            guard let pending = groups[target] else { continue }
            switch applied.outcomes[target] {
            case .upserted?, .deleted?:
                if case .deleted? = applied.outcomes[target] { delta.deletes += 1 } else { delta.upserts += 1 }
                delta.applied += pending.count
                for p in pending {
                    let ms = max(0, acknowledgedAt.timeIntervalSince(p.entry.time) * 1000)
                    millis.append(Int(ms.rounded()))
                    syncTimes.record(milliseconds: ms)
                    appliedEntries.append(AppliedEntry(id: p.entry.id, time: p.entry.time, acknowledged: acknowledged))
                }
            case .failed(let error)?:
                let attempts = applied.attempts[target] ?? 0
                for p in pending {
                    letters.append(DeadLetter(line: p.item.line, segment: p.item.segment,
                                              reason: "Atlas refused the write \(attempts) times: \(error.message)",
                                              entry: p.entry, attempts: attempts, error: error))
                }
            case nil:
                break
            }
        }
        delta.deadLettered = letters.count
        try deadLetters.append(letters)
        if !letters.isEmpty {
            logger.warning("dead-lettered \(letters.count) queue line(s) into \(deadLetters.path): \(letters[0].reason)")
        }
        let reached = !order.isEmpty
        try consumer.commit(batch, now: acknowledgedAt) { state in
            state.totals.add(delta)
            state.recordSyncTimes(millis)
            if reached {
                state.atlas.up = true
                state.atlas.lastReachable = acknowledgedAt
            }
        }
        runSummary.batches += 1
        runSummary.entries += entries
        runSummary.totals.add(delta)
        if !appliedEntries.isEmpty { onApplied?(appliedEntries) }
        // After every batch, not only when idle: under steady writes every batch is full.
        try consumer.maintain(rotateBytes: options.rotateBytes, grace: options.rotatedFileGrace)
        logger.debug("batch: \(entries) entries, \(delta.applied) applied in \(delta.upserts + delta.deletes) writes, \(delta.skipped) skipped, \(delta.deadLettered) dead-lettered")
        return batch.isFull ? .full : .partial
    }

    private struct Applied {
        var outcomes: [ReplayTarget: ReplayOutcome] = [:]
        var attempts: [ReplayTarget: Int] = [:]
    }

    /// Applies the targets until each has succeeded or failed for good; nil when stopped
    /// while waiting to retry.
    private func applyWithRetries(_ order: [ReplayTarget], groups: [ReplayTarget: [Pending]], stop: StopSignal,
                                  delta: inout ReplayTotals) async throws -> Applied? {
        var result = Applied()
        var pending = order
        var transientFailures = 0
        func entryCount(_ targets: [ReplayTarget]) -> Int { targets.reduce(0) { $0 + (groups[$1]?.count ?? 0) } }
        while !pending.isEmpty {
            let outcomes: [ReplayTarget: ReplayOutcome]
            do {
                outcomes = try await applier.apply(pending)
            } catch let error as ReplayServerError where error.isTransient {
                delta.failed += entryCount(pending)
                transientFailures += 1
                try noteUnreachable(error, failures: transientFailures)
                if let limit = options.transientAttemptLimit, transientFailures >= limit {
                    try consumer.record { $0.totals.failed += delta.failed }
                    throw MongoError(
                        kind: .unreachable, reason: error.underlying.reason,
                        message: "\(error.server) unreachable after \(transientFailures) attempts (\(error.underlying.reason.rawValue)): \(error.underlying.message) — nothing is lost: these entries stay queued; run syncctl replay again once it is reachable",
                        code: error.underlying.code, domain: error.underlying.domain, codeName: error.underlying.codeName,
                        labels: error.underlying.labels)
                }
                await stop.sleep(for: options.retry.delay(afterFailures: transientFailures))
                if stop.isStopped { return nil }
                continue
            }
            transientFailures = 0
            var retry: [ReplayTarget] = []
            var waitAfter = 1
            for target in pending {
                switch outcomes[target] {
                case .upserted?, .deleted?:
                    result.outcomes[target] = outcomes[target]
                case .failed(let error)?:
                    delta.failed += groups[target]?.count ?? 0
                    if error.isTransient {
                        retry.append(target)
                        continue
                    }
                    let attempts = (result.attempts[target] ?? 0) + 1
                    result.attempts[target] = attempts
                    if attempts > options.maxRetries {
                        result.outcomes[target] = .failed(error)
                    } else {
                        retry.append(target)
                        waitAfter = max(waitAfter, attempts)
                    }
                case nil:
                    // An applier that says nothing about a target has not applied it.
                    retry.append(target)
                }
            }
            pending = retry
            if !pending.isEmpty {
                await stop.sleep(for: options.retry.delay(afterFailures: waitAfter))
                if stop.isStopped { return nil }
            }
        }
        return result
    }

    /// Records that a server could not be reached (once per outage) and logs it.
    private func noteUnreachable(_ error: ReplayServerError, failures: Int) throws {
        if failures == 1 || failures.isMultiple(of: 20) {
            logger.warning("\(error.server) unreachable (attempt \(failures)), retrying: \(error.underlying.message)")
        }
        guard error.side == .atlas, consumer.state.atlas.up != false else { return }
        try consumer.record {
            $0.atlas.up = false
            $0.atlas.lastError = error.underlying.message
            $0.lastActivity = Date()
        }
    }
}

/// A queue line as an entry to replay, or why it cannot be one.
enum QueueLineCheck {
    struct Problem: Error {
        let text: String
        let entry: QueueEntry?
    }

    static func entry(of item: QueueConsumer.Batch.Item, localDatabase: String) -> Result<QueueEntry, Problem> {
        if item.torn {
            return .failure(Problem(text: "unfinished last line in the rotated queue file \(item.segment.name): its writer stopped mid-line", entry: nil))
        }
        if item.line.truncated {
            return .failure(Problem(text: "line longer than \(QueueReader.maxLineBytes >> 20) MiB: not a queue entry", entry: nil))
        }
        let entry: QueueEntry
        do {
            entry = try QueueEntry(line: item.line.bytes)
        } catch {
            return .failure(Problem(text: "line does not parse: \(error.reason)", entry: nil))
        }
        if entry.database != localDatabase {
            return .failure(Problem(
                text: "entry for database '\(entry.database)', but the synced database is '\(localDatabase)' (MONGODB_LOCAL_URI)",
                entry: entry))
        }
        return .success(entry)
    }
}
