import Foundation
import Logging
import Synchronization

/// The timeline of `syncctl resilience-test`; every duration is an option.
public struct ResilienceTestOptions: Sendable {
    /// Writes flowing with Atlas reachable.
    public var flowing: Duration = .seconds(5)
    /// Atlas cut: connections refused.
    public var refused: Duration = .seconds(8)
    /// Atlas hanging: connections accepted, never answered.
    public var hanging: Duration = .seconds(8)
    /// Atlas back, writes still flowing.
    public var restored: Duration = .seconds(5)
    /// After the writes stop, how long the queue may take to drain.
    public var drainTimeout: Duration = .seconds(30)
    /// One local write (and its queue append) every `writeInterval`.
    public var writeInterval: Duration = .milliseconds(20)
    /// One timeline line every `sampleInterval`.
    public var sampleInterval: Duration = .seconds(1)
    /// Local writes while Atlas is down must stay under this average (the seed's 10 ms).
    public var maxAverageOperationMillis = 10.0
    /// The replay worker's applier, given the real one: nil uses the real one. Anything else
    /// is a deliberately different worker — how the self-test proves a verdict can fail.
    public var applier: (@Sendable (MirrorApplier) -> any ReplayApplier)?

    public init() {}

    /// The whole timeline without the drain (the drain usually takes a second or two).
    public var plannedDuration: Duration { flowing + refused + hanging + restored }
}

/// What `resilience-test` saw.
public struct ResilienceReport: Sendable, Codable {
    public enum Phase: String, Sendable, Codable, CaseIterable {
        case flowing, refused, hanging, restored, draining
    }

    /// One line of the timeline.
    public struct Sample: Sendable, Codable, Equatable {
        /// Seconds since the start.
        public var t: Double
        public var phase: Phase
        public var queueDepth: Int
        /// Local writes in the interval, their average and worst latency, failures.
        public var writes: Int
        public var writeAverageMillis: Double?
        public var writeMaxMillis: Double?
        public var failedWrites: Int
        /// Entries applied to Atlas so far.
        public var applied: Int
    }

    /// One phase in figures.
    public struct PhaseSummary: Sendable, Codable {
        public var phase: Phase
        public var seconds: Double
        public var writes: Int
        public var failedWrites: Int
        public var latency: LatencySummary?
        public var depthAtStart: Int
        public var depthAtEnd: Int
    }

    /// The deep verification of the scratch collection after the drain.
    public struct Verification: Sendable, Codable {
        public var localCount: Int
        public var atlasCount: Int
        public var missingInAtlas: Int
        public var extraInAtlas: Int
        public var different: Int
        public var consistent: Bool
    }

    public var collection: String
    public var timeline: [Sample]
    public var phases: [PhaseSummary]
    public var verification: Verification?
    /// Seconds from Atlas coming back to an empty queue (nil: it did not drain).
    public var drainSeconds: Double?
    public var verdicts: [TestVerdict]
    public var seconds: Double
    public var passed: Bool { verdicts.count == 4 && verdicts.allSatisfy(\.passed) }
}

/// Seed 001 step 2.7 done properly, self-contained: a `FaultProxy` between the replay worker
/// and Atlas, and a timeline on a scratch collection — writes flowing; Atlas refusing; Atlas
/// hanging; Atlas back; the queue drains; a deep verification. Verdicts for the seed's four
/// claims: operations continue when Atlas is down, the queue grows, operations sync on
/// reconnect, no data loss. The scratch collection and queue are removed afterwards.
public struct ResilienceTest: Sendable {
    public let settings: Settings
    public let connection: DualConnection
    public let options: ResilienceTestOptions
    let logger = Logger(label: "syncctl.resilience-test")

    public init(settings: Settings, connection: DualConnection, options: ResilienceTestOptions) {
        self.settings = settings
        self.connection = connection
        self.options = options
    }

    /// Runs the timeline; `onSample` hears each timeline line as it happens.
    public func run(onSample: @escaping @Sendable (ResilienceReport.Sample) -> Void = { _ in }) async throws -> ResilienceReport {
        let atlas = try connection.requireAtlas()
        // The connection was built from these settings: with an Atlas connection there is a URI.
        guard let atlasURI = settings.atlasURI else { preconditionFailure("an Atlas connection without MONGODB_ATLAS_URI") }
        let route = try ProxyRoute(hello: try await atlas.hello(), connection: atlasURI)
        let proxy = try FaultProxy(targetHost: route.host, targetPort: route.port)
        defer { proxy.stop() }
        var poolOptions = PoolOptions()
        poolOptions.serverSelectionTimeoutMS = 1_500
        poolOptions.connectTimeoutMS = 1_000
        poolOptions.socketTimeoutMS = 3_000
        poolOptions.overrideTimeouts = true
        poolOptions.appName = "syncctl-resilience-test"
        let proxied = try MongoConnection(uri: ProxyRoute.proxiedURI(atlasURI, proxyPort: proxy.port),
                                          redactedURI: "\(atlas.redactedURI) (through the test proxy)", name: "atlas", options: poolOptions)
        defer { proxied.close() }
        return try await ScratchNames.withScratch("resilience", settings: settings, connection: connection) { collection, queue in
            try await timeline(proxy: proxy, proxied: proxied, collection: collection, queue: queue, onSample: onSample)
        }
    }

    private func timeline(proxy: FaultProxy, proxied: MongoConnection, collection: String, queue: ScratchQueue,
                          onSample: @escaping @Sendable (ResilienceReport.Sample) -> Void) async throws -> ResilienceReport {
        let clock = ContinuousClock()
        let started = clock.now
        let database = connection.localDatabase
        let applied = Atomic<Int>(0)
        let mirror = MirrorApplier(local: connection.local, atlas: proxied, localDatabase: database, atlasDatabase: connection.atlasDatabase)
        var replayOptions = ReplayOptions(settings: settings, follow: true)
        replayOptions.retry = RetryPolicy(initial: .milliseconds(100), maximum: .seconds(1))
        // The outage is the point of the test: the worker's retry warnings would only clutter it.
        var workerLogger = logger
        if logger.logLevel > .debug { workerLogger.logLevel = .error }
        let worker = try ReplayWorker(files: queue.files, applier: options.applier?(mirror) ?? mirror, options: replayOptions,
                                      logger: workerLogger) { entries in applied.add(entries.count, ordering: .relaxed) }
        let workerStop = StopSignal()
        let workerTask = Task { try await worker.follow(stop: workerStop) }

        let writer = ScratchWriter(local: connection.local, database: database, collection: collection,
                                   appender: QueueAppender(path: queue.files.path, durable: settings.persistQueue))
        let writerStop = StopSignal()
        let writerTask = Task { await writer.run(every: options.writeInterval, until: writerStop) }

        var samples: [ResilienceReport.Sample] = []
        var phases: [ResilienceReport.PhaseSummary] = []
        func depth() -> Int {
            (try? QueueReport.load(files: queue.files, maxSize: settings.queueMaxSize, persisted: settings.persistQueue).depth) ?? -1
        }
        func sample(_ phase: ResilienceReport.Phase) {
            let interval = writer.takeInterval()
            let line = ResilienceReport.Sample(
                t: (clock.now - started).seconds, phase: phase, queueDepth: depth(), writes: interval.latency.count,
                writeAverageMillis: interval.latency.summary?.average, writeMaxMillis: interval.latency.summary?.max,
                failedWrites: interval.failures, applied: applied.load(ordering: .relaxed))
            samples.append(line)
            onSample(line)
        }
        /// Runs one phase for `duration`, sampling as it goes.
        func phase(_ phase: ResilienceReport.Phase, for duration: Duration) async throws {
            let phaseStart = clock.now
            let depthAtStart = depth()
            writer.beginPhase()
            let end = phaseStart + duration
            while clock.now < end {
                try Task.checkCancellation()
                try await Task.sleep(for: min(options.sampleInterval, end - clock.now))
                sample(phase)
            }
            let totals = writer.phaseTotals()
            phases.append(.init(phase: phase, seconds: (clock.now - phaseStart).seconds, writes: totals.latency.count,
                                failedWrites: totals.failures, latency: totals.latency.summary, depthAtStart: depthAtStart,
                                depthAtEnd: depth()))
        }

        var drainSeconds: Double?
        do {
            try await phase(.flowing, for: options.flowing)
            proxy.set(.refuse)
            try await phase(.refused, for: options.refused)
            proxy.set(.hang)
            try await phase(.hanging, for: options.hanging)
            proxy.set(.forward)
            let restoredAt = clock.now
            try await phase(.restored, for: options.restored)
            writerStop.stop()
            await writerTask.value
            let drainDeadline = clock.now + options.drainTimeout
            writer.beginPhase()
            let drainStart = clock.now
            let depthAtDrain = depth()
            var nextSample = clock.now + options.sampleInterval
            while clock.now < drainDeadline {
                try Task.checkCancellation()
                if depth() == 0 {
                    drainSeconds = (clock.now - restoredAt).seconds
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
                if clock.now >= nextSample {
                    sample(.draining)
                    nextSample = clock.now + options.sampleInterval
                }
            }
            sample(.draining)
            phases.append(.init(phase: .draining, seconds: (clock.now - drainStart).seconds, writes: 0, failedWrites: 0,
                                latency: nil, depthAtStart: depthAtDrain, depthAtEnd: depth()))
        } catch {
            writerStop.stop()
            workerStop.stop()
            await writerTask.value
            _ = try? await workerTask.value
            throw error
        }
        workerStop.stop()
        _ = try await workerTask.value

        let verification = try await verify(collection)
        let verdicts = ResilienceTest.verdicts(phases: phases, drainSeconds: drainSeconds, verification: verification,
                                               options: options)
        return ResilienceReport(collection: collection, timeline: samples, phases: phases, verification: verification,
                                drainSeconds: drainSeconds, verdicts: verdicts, seconds: (clock.now - started).seconds)
    }

    /// Deep verification of the scratch collection with verify-consistency's own comparison
    /// (every document by its bytes, differences re-read before they count).
    private func verify(_ collection: String) async throws -> ResilienceReport.Verification {
        var verifyOptions = VerifyOptions()
        verifyOptions.mode = .deep
        verifyOptions.collections = [collection]
        verifyOptions.recheckDelay = .milliseconds(300)
        verifyOptions.recheckRounds = 2
        verifyOptions.spillDirectory = settings.stateDir + "/verify"
        let report = try await ConsistencyCheck(connections: connection, options: verifyOptions).run()
        let result = report.collections.first { $0.name == collection }
        return ResilienceReport.Verification(
            localCount: result?.localCount ?? 0, atlasCount: result?.atlasCount ?? 0,
            missingInAtlas: result?.missingInAtlas ?? 0, extraInAtlas: result?.extraInAtlas ?? 0,
            different: result?.different ?? 0, consistent: report.consistent && (result?.localCount ?? 0) > 0)
    }

    /// The seed's four claims, judged from the phases.
    static func verdicts(phases: [ResilienceReport.PhaseSummary], drainSeconds: Double?,
                         verification: ResilienceReport.Verification, options: ResilienceTestOptions) -> [TestVerdict] {
        let flowing = phases.first { $0.phase == .flowing }
        let outage = phases.filter { $0.phase == .refused || $0.phase == .hanging }
        let outageWrites = outage.reduce(0) { $0 + $1.writes }
        let outageFailures = outage.reduce(0) { $0 + $1.failedWrites }
        var outageLatency: Double?
        if outageWrites > 0 {
            outageLatency = outage.reduce(0.0) { $0 + Double($1.writes) * ($1.latency?.average ?? 0) } / Double(outageWrites)
        }
        let depthBefore = outage.first?.depthAtStart ?? 0
        let depthAfter = outage.last?.depthAtEnd ?? 0
        let ms = PerfTest.ms
        return [
            TestVerdict(
                claim: "operations continue when Atlas is down",
                passed: outageWrites > 0 && outageFailures == 0 && (outageLatency ?? .infinity) < options.maxAverageOperationMillis,
                detail: "\(outageWrites) local writes while Atlas was down, \(outageFailures) failed, average \(outageLatency.map(ms) ?? "-")"
                    + " (with Atlas up: \(flowing?.latency.map { ms($0.average) } ?? "-"); limit \(ms(options.maxAverageOperationMillis)))"),
            TestVerdict(
                claim: "the queue grows",
                passed: depthAfter > depthBefore && depthAfter >= outageWrites,
                detail: "queue depth \(depthBefore) → \(depthAfter) while Atlas was down (\(outageWrites) entries appended)"),
            TestVerdict(
                claim: "operations sync on reconnect",
                passed: drainSeconds != nil,
                detail: drainSeconds.map { "the queue drained \(QueueReport.seconds($0)) after Atlas came back" }
                    ?? "the queue did not drain within \(QueueReport.seconds(options.drainTimeout.seconds)) after the writes stopped"),
            TestVerdict(
                claim: "no data loss",
                passed: verification.consistent,
                detail: "deep verification: \(verification.localCount) local, \(verification.atlasCount) in Atlas, "
                    + "\(verification.missingInAtlas) missing, \(verification.extraInAtlas) extra, \(verification.different) different"),
        ]
    }
}

/// The application stand-in: local writes to the scratch collection — inserts, updates and
/// deletes — each followed by its queue append, with latencies per phase and per interval.
final class ScratchWriter: Sendable {
    struct Figures: Sendable {
        var latency = LatencyRecorder()
        var failures = 0
    }

    let local: MongoConnection
    let database: String
    let collection: String
    let appender: QueueAppender
    private let figures = Mutex((phase: Figures(), interval: Figures()))

    init(local: MongoConnection, database: String, collection: String, appender: QueueAppender) {
        self.local = local
        self.database = database
        self.collection = collection
        self.appender = appender
    }

    func beginPhase() { figures.withLock { $0.phase = Figures() } }
    func phaseTotals() -> Figures { figures.withLock { $0.phase } }
    func takeInterval() -> Figures {
        figures.withLock { state in
            defer { state.interval = Figures() }
            return state.interval
        }
    }

    func run(every interval: Duration, until stop: StopSignal) async {
        let clock = ContinuousClock()
        var ids: [ObjectID] = []
        var tick = 0
        var next = clock.now
        while !stop.isStopped {
            next += interval
            tick += 1
            let start = clock.now
            var ok = true
            do {
                try await write(tick: tick, ids: &ids)
            } catch {
                ok = false
            }
            let elapsed = clock.now - start
            figures.withLock { state in
                if ok {
                    state.phase.latency.record(elapsed)
                    state.interval.latency.record(elapsed)
                } else {
                    state.phase.failures += 1
                    state.interval.failures += 1
                }
            }
            if next > clock.now { try? await Task.sleep(until: next, clock: clock) } else { next = clock.now }
        }
    }

    /// Mostly inserts; every fifth write an update, every tenth a delete.
    private func write(tick: Int, ids: inout [ObjectID]) async throws {
        if tick % 10 == 7, ids.count > 5 {
            let id = ids.remove(at: Int.random(in: 0..<ids.count))
            try await local.deleteOne(["_id": .objectID(id)], database: database, collection: collection)
            try appender.append(.delete, database: database, collection: collection, id: .objectID(id))
        } else if tick % 5 == 3, let id = ids.randomElement() {
            let reply = try await local.runCommand(BSONDocument(pairs: [
                ("update", .string(collection)),
                ("updates", .array([.document([
                    "q": .document(["_id": .objectID(id)]),
                    "u": .document(["$inc": .document(["n": 1]), "$set": .document(["tick": .int32(Int32(tick))])]),
                ])])),
            ]), database: database)
            try MongoConnection.throwWriteErrors(reply, name: local.name)
            try appender.append(.update, database: database, collection: collection, id: .objectID(id))
        } else {
            let id = ObjectID.generate()
            try await local.insert([["_id": .objectID(id), "n": 0, "tick": .int32(Int32(tick)), "pad": .string(String(repeating: "r", count: 64))]],
                                   database: database, collection: collection)
            ids.append(id)
            try appender.append(.insert, database: database, collection: collection, id: .objectID(id))
        }
    }
}
