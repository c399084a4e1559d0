import Foundation
import Synchronization
import Testing

@testable import SyncCore

/// An applier without servers: records what it was asked, fails as scripted.
final class ScriptedApplier: ReplayApplier {
    enum Script: Sendable {
        /// Throw a transient server failure for the next `count` calls.
        case unreachable(count: Int)
        /// Every target in `ids` fails with a non-transient error, always.
        case refuse(ids: Set<Int32>)
        case none
    }

    private let state: Mutex<(calls: [[ReplayTarget]], script: Script)>

    init(_ script: Script = .none) {
        state = Mutex((calls: [], script: script))
    }

    var calls: [[ReplayTarget]] { state.withLock { $0.calls } }

    func apply(_ targets: [ReplayTarget]) async throws -> [ReplayTarget: ReplayOutcome] {
        let script = state.withLock { state -> Script in
            state.calls.append(targets)
            if case .unreachable(let count) = state.script {
                state.script = count > 1 ? .unreachable(count: count - 1) : .none
                return .unreachable(count: count)
            }
            return state.script
        }
        if case .unreachable = script {
            throw ReplayServerError(.atlas, MongoError(kind: .unreachable, reason: .refused, message: "connection refused"))
        }
        var outcomes: [ReplayTarget: ReplayOutcome] = [:]
        for target in targets {
            if case .refuse(let ids) = script, case .int32(let n) = target.id, ids.contains(n) {
                outcomes[target] = .failed(MongoError(kind: .unexpected, reason: .command, message: "Document failed validation", code: 121))
            } else {
                outcomes[target] = .upserted
            }
        }
        return outcomes
    }
}

/// The worker's bookkeeping, without servers: coalescing, exclusions, dead letters, retries,
/// and that nothing is committed before the applier succeeded.
struct QueueReplayWorkerTests {
    func options(_ configure: (inout ReplayOptions) -> Void = { _ in }) -> ReplayOptions {
        var options = ReplayOptions(batchSize: 100, maxRetries: 2, excludedCollections: ["sessions"], localDatabase: "bomba",
                                    atlasDatabase: "bomba", retry: RetryPolicy(initial: .milliseconds(1), maximum: .milliseconds(5)),
                                    transientAttemptLimit: 3)
        configure(&options)
        return options
    }

    @Test func entriesForOneDocumentAreCoalescedAndExcludedCollectionsSkipped() async throws {
        let queue = try ScratchQueueDirectory()
        defer { queue.remove() }
        try queue.appender.append([queue.entry(1), queue.entry(2), queue.entry(1), queue.entry(1), queue.entry(3, collection: "sessions")])
        let applier = ScriptedApplier()
        let worker = try ReplayWorker(files: queue.files, applier: applier, options: options())
        let summary = try await worker.drain()
        #expect(applier.calls.count == 1)
        #expect(applier.calls[0].map(\.id) == [.int32(1), .int32(2)])
        #expect(summary.totals.applied == 4 && summary.totals.coalesced == 2 && summary.totals.skipped == 1)
        #expect(summary.totals.upserts == 2)
        let report = try QueueReport.load(files: queue.files, maxSize: 100, persisted: false)
        #expect(report.depth == 0 && report.totals.applied == 4)
    }

    @Test func badLinesAndOtherDatabasesAreDeadLetteredTheRestApplied() async throws {
        let queue = try ScratchQueueDirectory()
        defer { queue.remove() }
        try queue.appender.append([queue.entry(1)])
        try queue.appendRaw("{\"v\":1,\"broken\n")
        try queue.appender.append([queue.entry(2, database: "other"), queue.entry(3)])
        let applier = ScriptedApplier()
        let summary = try await ReplayWorker(files: queue.files, applier: applier, options: options()).drain()
        #expect(applier.calls.flatMap { $0 }.map(\.id) == [.int32(1), .int32(3)])
        #expect(summary.totals.deadLettered == 2)
        let letters = DeadLetterFile(files: queue.files).read().letters
        #expect(letters.count == 2)
        #expect(letters[0].reason.hasPrefix("line does not parse"))
        #expect(letters[0].line == "{\"v\":1,\"broken")
        #expect(letters[0].source.file == "sync-queue.jsonl" && letters[0].source.offset > 0)
        #expect(letters[1].reason.contains("'other'"))
    }

    @Test func nonTransientFailureIsDeadLetteredAfterMaxRetriesRetries() async throws {
        let queue = try ScratchQueueDirectory()
        defer { queue.remove() }
        try queue.appender.append([queue.entry(1), queue.entry(2), queue.entry(2)])
        let applier = ScriptedApplier(.refuse(ids: [2]))
        let summary = try await ReplayWorker(files: queue.files, applier: applier, options: options()).drain()
        // Tried once and retried twice (SYNC_MAX_RETRIES=2), then given up; 1 went through at once.
        #expect(applier.calls.map(\.count) == [2, 1, 1])
        #expect(summary.totals.applied == 1)
        #expect(summary.totals.deadLettered == 2)  // both entries for the document
        #expect(summary.totals.failed == 6)
        let letters = DeadLetterFile(files: queue.files).read().letters
        #expect(letters.allSatisfy { $0.attempts == 3 && $0.error?.code == 121 })
        #expect(try QueueReport.load(files: queue.files, maxSize: 100, persisted: false).depth == 0)
    }

    @Test func transientFailuresAreRetriedWithoutCountingTowardsDeadLetters() async throws {
        let queue = try ScratchQueueDirectory()
        defer { queue.remove() }
        try queue.appender.append([queue.entry(1)])
        let applier = ScriptedApplier(.unreachable(count: 2))
        let summary = try await ReplayWorker(files: queue.files, applier: applier, options: options { $0.maxRetries = 0 }).drain()
        #expect(applier.calls.count == 3)
        #expect(summary.totals.applied == 1 && summary.totals.deadLettered == 0 && summary.totals.failed == 2)
    }

    @Test func aServerThatStaysDownStopsAOneShotRunWithNothingCommitted() async throws {
        let queue = try ScratchQueueDirectory()
        defer { queue.remove() }
        try queue.appender.append([queue.entry(1), queue.entry(2)])
        let applier = ScriptedApplier(.unreachable(count: 100))
        let worker = try ReplayWorker(files: queue.files, applier: applier, options: options())
        await #expect {
            try await worker.drain()
        } throws: { error in
            (error as? MongoError)?.kind == .unreachable && "\(error)".contains("stay queued")
        }
        #expect(applier.calls.count == 3)
        let report = try QueueReport.load(files: queue.files, maxSize: 100, persisted: false)
        #expect(report.depth == 2)
        #expect(report.atlasUp == false)
    }

    @Test func stoppingWhileWaitingToRetryCommitsNothing() async throws {
        let queue = try ScratchQueueDirectory()
        defer { queue.remove() }
        try queue.appender.append([queue.entry(1)])
        let applier = ScriptedApplier(.unreachable(count: 1_000))
        let worker = try ReplayWorker(files: queue.files, applier: applier,
                                      options: options { $0.transientAttemptLimit = nil; $0.retry = RetryPolicy(initial: .seconds(10)) })
        let stop = StopSignal()
        Task {
            try await Task.sleep(for: .milliseconds(100))
            stop.stop()
        }
        #expect(try await worker.processBatch(stop: stop) == .abandoned)
        #expect(try QueueReport.load(files: queue.files, maxSize: 100, persisted: false).depth == 1)
    }

    @Test func followPicksUpNewLinesUntilStopped() async throws {
        let queue = try ScratchQueueDirectory()
        defer { queue.remove() }
        let applier = ScriptedApplier()
        let files = queue.files
        let applied = Atomic<Int>(0)
        let stop = StopSignal()
        let opts = options { $0.pollInterval = .milliseconds(5) }
        let task = Task {
            let worker = try ReplayWorker(files: files, applier: applier, options: opts) { applied.add($0.count, ordering: .relaxed) }
            return try await worker.follow(stop: stop)
        }
        for n in 0..<50 {
            try queue.appender.append(queue.entry(n))
            if n % 10 == 0 { try await Task.sleep(for: .milliseconds(10)) }
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while applied.load(ordering: .relaxed) < 50 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        stop.stop()
        let summary = try await task.value
        #expect(summary.totals.applied == 50)
        #expect(summary.syncTime?.count == 50)
    }
}
