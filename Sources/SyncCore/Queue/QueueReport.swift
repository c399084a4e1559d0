import Foundation

/// The sync queue's figures at one moment, computed from the queue files and replay's state
/// file alone (no server is contacted): what `status`, `status --watch`, `replay --json` and
/// the Prometheus textfile show.
public struct QueueReport: Sendable, Codable, Equatable {
    public var queueFile: String
    /// Queue data files present (the active one and rotated ones not yet deleted).
    public var files: Int
    /// Entries written by the application and not yet replayed.
    public var depth: Int
    public var pendingBytes: UInt64
    /// The time of the oldest pending entry, and its age: the sync lag.
    public var oldestPending: Date?
    public var lagSeconds: Double
    /// `SYNC_QUEUE_MAX_SIZE`, and whether the depth has reached it.
    public var maxSize: Int
    public var overLimit: Bool
    /// `SYNC_PERSIST_QUEUE`: whether appends are fsynced.
    public var persisted: Bool
    public var deadLetters: Int
    public var deadLetterFile: String
    /// Counted since the queue's replay state was created.
    public var totals: ReplayTotals
    public var successRatio: Double?
    /// Entry time → Atlas acknowledgement over the most recent applied entries (up to 1000).
    public var syncTime: SyncTime?
    /// What replay last saw of Atlas (nil: replay has not tried yet).
    public var atlasUp: Bool?
    public var atlasLastReachable: Date?
    public var atlasLastError: String?
    /// When replay last committed progress, and when a replay last looked at the queue.
    public var lastCommit: Date?
    public var lastActivity: Date?
    /// Things worth knowing about the files (a replaced queue file, an unreadable state).
    public var notes: [String]
    public var generated: Date

    public struct SyncTime: Sendable, Codable, Equatable {
        public var samples: Int
        public var averageSeconds: Double
        public var p95Seconds: Double
    }

    /// The figures for the queue the settings name.
    public static func load(settings: Settings, now: Date = Date()) throws -> QueueReport {
        try load(files: QueueFiles(settings: settings), maxSize: settings.queueMaxSize, persisted: settings.persistQueue, now: now)
    }

    /// The figures for a queue named by paths (for callers that read the settings leniently,
    /// like `status`): `SYNC_QUEUE_FILE`, `SYNC_STATE_DIR`, `SYNC_QUEUE_MAX_SIZE`,
    /// `SYNC_PERSIST_QUEUE`.
    public static func load(queueFile: String, stateDir: String, maxSize: Int = 10_000, persisted: Bool = true,
                            now: Date = Date()) throws -> QueueReport {
        try load(files: QueueFiles(path: queueFile, state: StateDirectory(path: stateDir)), maxSize: maxSize,
                 persisted: persisted, now: now)
    }

    public static func load(files: QueueFiles, maxSize: Int, persisted: Bool, now: Date = Date()) throws -> QueueReport {
        var notes: [String] = []
        let state: QueueState
        do {
            state = try QueueState.read(files)
        } catch {
            notes.append("\(error)")
            state = QueueState()
        }
        var depth = 0
        var pendingBytes: UInt64 = 0
        var oldest: Date?
        let positions = state.positions(of: try files.segments())
        for position in positions {
            if let note = position.note { notes.append(note) }
            guard position.offset < position.segment.size else { continue }
            var parsedForTime = 0
            let (end, _) = try QueueReader(segment: position.segment).forEachLine(from: position.offset) { line in
                guard !line.isBlank else { return true }
                depth += 1
                // Lines are in append order, so the first that parses is the oldest here;
                // a run of unparseable lines is not searched for ever.
                if oldest == nil && parsedForTime < 100 {
                    parsedForTime += 1
                    oldest = (try? QueueEntry(line: line.bytes))?.time
                }
                return true
            }
            pendingBytes += end - position.offset
        }
        let deadLetters = DeadLetterFile(files: files).count()
        var sync = LatencyRecorder()
        for ms in state.recentSyncMillis { sync.record(milliseconds: Double(ms)) }
        let syncTime = sync.summary.map { SyncTime(samples: $0.count, averageSeconds: $0.average / 1000, p95Seconds: $0.p95 / 1000) }
        return QueueReport(
            queueFile: files.path, files: positions.count, depth: depth, pendingBytes: pendingBytes, oldestPending: oldest,
            lagSeconds: oldest.map { max(0, now.timeIntervalSince($0)) } ?? 0, maxSize: maxSize, overLimit: depth >= maxSize,
            persisted: persisted, deadLetters: deadLetters, deadLetterFile: files.deadLetterPath,
            totals: state.totals, successRatio: state.totals.successRatio, syncTime: syncTime, atlasUp: state.atlas.up,
            atlasLastReachable: state.atlas.lastReachable, atlasLastError: state.atlas.up == false ? state.atlas.lastError : nil,
            lastCommit: state.lastCommit, lastActivity: state.lastActivity, notes: notes, generated: now)
    }

    /// The figures as Prometheus samples (names from `MetricNames`).
    public var metricSamples: [MetricSample] {
        var samples = [
            MetricSample(MetricNames.queueDepth, Double(depth), help: "Sync queue entries not yet replayed to Atlas."),
            MetricSample(MetricNames.queueOldestAge, lagSeconds,
                         help: "Age of the oldest sync queue entry not yet replayed (sync lag), in seconds."),
            MetricSample(MetricNames.replayEntries, Double(totals.applied), labels: ["outcome": "applied"],
                         help: "Queue entries replayed to Atlas, by outcome (failed counts failed attempts)."),
            MetricSample(MetricNames.replayEntries, Double(totals.failed), labels: ["outcome": "failed"],
                         help: "Queue entries replayed to Atlas, by outcome (failed counts failed attempts)."),
            MetricSample(MetricNames.replayEntries, Double(totals.deadLettered), labels: ["outcome": "dead_lettered"],
                         help: "Queue entries replayed to Atlas, by outcome (failed counts failed attempts)."),
        ]
        if let successRatio {
            samples.append(MetricSample(MetricNames.replaySuccessRatio, successRatio,
                                        help: "Share of finished queue entries that reached Atlas (applied / (applied + dead-lettered))."))
        }
        if let syncTime {
            let help = "Seconds from a queue entry's time to its Atlas write, over the most recent entries."
            samples.append(MetricSample(MetricNames.replaySyncSeconds, syncTime.averageSeconds, labels: ["stat": "avg"], help: help))
            samples.append(MetricSample(MetricNames.replaySyncSeconds, syncTime.p95Seconds, labels: ["stat": "p95"], help: help))
        }
        if let atlasUp {
            samples.append(MetricSample(MetricNames.atlasUp, atlasUp ? 1 : 0, help: "1 when replay's last attempt to reach Atlas succeeded."))
        }
        if let atlasLastReachable {
            samples.append(MetricSample(MetricNames.atlasLastReachable, atlasLastReachable.timeIntervalSince1970,
                                        help: "When replay last reached Atlas (Unix time)."))
        }
        return samples
    }

    /// The seeds' health thresholds: queue under 100, success over 99 %, average sync time
    /// under 500 ms.
    public struct Thresholds: Sendable {
        public var maxDepth: Int
        public var minSuccessRatio: Double
        public var maxAverageSyncSeconds: Double

        public init(maxDepth: Int = 100, minSuccessRatio: Double = 0.99, maxAverageSyncSeconds: Double = 0.5) {
            self.maxDepth = maxDepth
            self.minSuccessRatio = minSuccessRatio
            self.maxAverageSyncSeconds = maxAverageSyncSeconds
        }
    }

    /// What is wrong with the queue, one sentence each (empty when healthy).
    public func problems(_ thresholds: Thresholds = Thresholds()) -> [String] {
        var problems: [String] = []
        if overLimit {
            problems.append("the queue holds \(depth) entries, at or over SYNC_QUEUE_MAX_SIZE=\(maxSize): Atlas is falling behind (nothing is dropped; check that replay runs and reaches Atlas)")
        } else if depth >= thresholds.maxDepth {
            problems.append("the queue holds \(depth) entries (healthy: under \(thresholds.maxDepth)); sync lag \(Self.seconds(lagSeconds))")
        }
        if atlasUp == false {
            problems.append("replay cannot reach Atlas\(atlasLastError.map { ": \($0)" } ?? "")")
        }
        if deadLetters > 0 {
            problems.append("\(deadLetters) dead letter(s) in \(deadLetterFile): review with `syncctl replay --dead-letters`")
        }
        if let successRatio, successRatio < thresholds.minSuccessRatio {
            problems.append(String(format: "success rate %.2f %% (healthy: over %.0f %%)", successRatio * 100, thresholds.minSuccessRatio * 100))
        }
        if let syncTime, syncTime.averageSeconds > thresholds.maxAverageSyncSeconds {
            problems.append("average sync time \(Self.seconds(syncTime.averageSeconds)) (healthy: under \(Self.seconds(thresholds.maxAverageSyncSeconds)))")
        }
        return problems
    }

    /// One line with the figures the checklist records every few minutes, for
    /// `status --watch`: `10:05:00  queue 3/10000  lag 0.4 s  applied 1520  failed 0  …`.
    public var watchLine: String {
        var clock = time_t(generated.timeIntervalSince1970)
        var parts = tm()
        localtime_r(&clock, &parts)
        var line = String(format: "%02d:%02d:%02d", parts.tm_hour, parts.tm_min, parts.tm_sec)
        line += "  queue \(depth)/\(maxSize)  lag \(Self.seconds(lagSeconds))"
        line += "  applied \(totals.applied)  failed \(totals.failed)  dead-lettered \(totals.deadLettered)"
        line += "  success " + (successRatio.map { String(format: "%.2f %%", $0 * 100) } ?? "-")
        if let syncTime {
            line += "  sync avg \(Self.seconds(syncTime.averageSeconds)) p95 \(Self.seconds(syncTime.p95Seconds))"
        } else {
            line += "  sync -"
        }
        line += "  atlas " + (atlasUp.map { $0 ? "up" : "DOWN" } ?? "-")
        return line
    }

    /// `850 ms`, `3.2 s`, `4 min 10 s`.
    public static func seconds(_ value: Double) -> String {
        if value < 1 { return "\(Int((value * 1000).rounded())) ms" }
        if value < 60 { return String(format: "%.1f s", value) }
        let whole = Int(value.rounded())
        if whole < 3600 { return "\(whole / 60) min \(whole % 60) s" }
        return "\(whole / 3600) h \(whole % 3600 / 60) min"
    }
}

extension QueueState {
    /// The state as it is on disk, read only (a state file that does not parse is an error
    /// here; replay itself sets such a file aside).
    static func read(_ files: QueueFiles) throws(StateError) -> QueueState {
        guard let data = FileManager.default.contents(atPath: files.statePath) else { return QueueState() }
        let decoder = StateJSON.decoder()
        guard let state = try? decoder.decode(QueueState.self, from: data), state.version == currentVersion else {
            throw StateError(.badInput, "replay state \(files.statePath) does not parse: the next replay sets it aside and starts over")
        }
        return state
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
