import Foundation

/// A fact about where the rollout stands that a checklist item can check automatically, read
/// from the settings and the rollout journal (not from the servers). Each has a stable id that
/// the Markdown checklists name (`syncctl status` fact `state.backup-verified`).
///
/// Journal facts read the entries other commands append: `backup` (`details.verified: true`
/// when the copy was restored and compared), `full-sync` (entries with `details.dryRun: true`
/// are ignored), `verify-consistency`, `perf-test`, `resilience-test`, `enable`, and `sign-off`
/// (`details.phase`). An entry's
/// `result` is "ok" when the command succeeded.
public enum RolloutFact: Sendable, Hashable {
    case syncEnabled
    case syncDisabled
    case allCollectionsIncluded
    case backupRecent
    case backupVerified
    case fullSyncOK
    case fullSyncRecent
    case consistencyOK
    case consistencyRecent
    case perfTestOK
    case resilienceTestOK
    case signedOff(phase: String)

    /// The newest backup may be this old (the checklist's "backup recent (< 24 hours old)").
    public static let backupMaximumAge: TimeInterval = 24 * 3600
    /// The daily full sync may be this old before it counts as missed (alerts use the same 26 h).
    public static let fullSyncMaximumAge: TimeInterval = 26 * 3600
    /// The weekly consistency check may be this old (a week and a day).
    public static let consistencyMaximumAge: TimeInterval = 8 * 24 * 3600

    public var id: String {
        switch self {
        case .syncEnabled: "state.sync-enabled"
        case .syncDisabled: "state.sync-disabled"
        case .allCollectionsIncluded: "state.all-collections-included"
        case .backupRecent: "state.backup-recent"
        case .backupVerified: "state.backup-verified"
        case .fullSyncOK: "state.full-sync-ok"
        case .fullSyncRecent: "state.full-sync-recent"
        case .consistencyOK: "state.consistency-ok"
        case .consistencyRecent: "state.consistency-recent"
        case .perfTestOK: "state.perf-test-ok"
        case .resilienceTestOK: "state.resilience-test-ok"
        case .signedOff(let phase): "state.signed-off-\(phase)"
        }
    }

    /// Every fact but the per-phase sign-offs.
    static let simple: [RolloutFact] = [
        .syncEnabled, .syncDisabled, .allCollectionsIncluded, .backupRecent, .backupVerified, .fullSyncOK,
        .fullSyncRecent, .consistencyOK, .consistencyRecent, .perfTestOK, .resilienceTestOK,
    ]

    /// The ids a checklist may name, for messages.
    static var knownIDs: String { (simple.map(\.id) + ["state.signed-off-<phase>"]).joined(separator: ", ") }

    public init?(id: String) {
        if let fact = RolloutFact.simple.first(where: { $0.id == id }) {
            self = fact
            return
        }
        let prefix = "state.signed-off-"
        guard id.hasPrefix(prefix), Checklist.phases.contains(String(id.dropFirst(prefix.count))) else { return nil }
        self = .signedOff(phase: String(id.dropFirst(prefix.count)))
    }
}

/// Evaluates `RolloutFact`s against the settings and the journal at one moment.
public struct RolloutFacts: Sendable {
    public let settings: RolloutSettings
    public let entries: [JournalEntry]
    public let now: Date

    public init(settings: RolloutSettings, entries: [JournalEntry], now: Date = Date()) {
        self.settings = settings
        self.entries = entries
        self.now = now
    }

    /// The fact as a check outcome (section "Rollout state"): pass or fail with what was seen and,
    /// on failure, the command that fixes it.
    public func evaluate(_ fact: RolloutFact) -> CheckOutcome {
        let (passed, detail) = judge(fact)
        return CheckOutcome(id: fact.id, section: "Rollout state", title: fact.id, result: passed ? .pass : .fail, detail: detail)
    }

    private func judge(_ fact: RolloutFact) -> (Bool, String) {
        switch fact {
        case .syncEnabled, .syncDisabled:
            let want = fact == .syncEnabled
            let origin = "from \(sourceName(settings.syncEnabledSource))"
            guard let enabled = settings.syncEnabled else {
                return (false, "SYNC_ENABLED is not a boolean (\(settings.problems.first ?? "invalid")): fix it with `syncctl \(want ? "enable" : "disable")`")
            }
            if enabled == want { return (true, "SYNC_ENABLED=\(enabled) (\(origin))") }
            return (false, "SYNC_ENABLED=\(enabled) (\(origin)): run `syncctl \(want ? "enable" : "disable")`")
        case .allCollectionsIncluded:
            if settings.excludedCollections.isEmpty { return (true, "SYNC_EXCLUDED_COLLECTIONS is empty: every collection syncs") }
            return (false, "still excluded: \(settings.excludedCollections.joined(separator: ", ")): run `syncctl enable --include-all`")
        case .backupRecent, .backupVerified:
            guard let backup = newest("backup", where: { $0.result == "ok" }) else {
                return (false, "no successful backup in the journal: run `syncctl backup --verify`")
            }
            let age = now.timeIntervalSince(backup.time)
            let when = "\(RolloutFacts.describe(backup.time)) (\(RolloutFacts.formatAge(age)) ago)"
            guard age <= RolloutFact.backupMaximumAge else {
                return (false, "newest successful backup is from \(when), older than 24 h: run `syncctl backup --verify`")
            }
            if fact == .backupRecent { return (true, "backup taken \(when)") }
            guard backup.details?["verified"] == .bool(true) else {
                return (false, "the backup of \(when) was not verified: run `syncctl backup --verify`")
            }
            return (true, "backup taken and verified \(when)")
        case .fullSyncOK:
            guard let sync = newest("full-sync", where: { $0.details?["dryRun"] != .bool(true) }) else {
                return (false, "no full sync in the journal: run `syncctl full-sync`")
            }
            let when = RolloutFacts.describe(sync.time)
            guard sync.result == "ok" else { return (false, "the last full sync (\(when)) ended '\(sync.result)': run `syncctl full-sync` again") }
            if let enable = newest("enable"), enable.time > sync.time {
                return (false, "the last full sync (\(when)) ran before sync was last enabled (\(RolloutFacts.describe(enable.time))): run `syncctl full-sync`")
            }
            return (true, "full sync completed \(when)")
        case .fullSyncRecent:
            return recent("full-sync", maximumAge: RolloutFact.fullSyncMaximumAge, what: "full sync", fix: "syncctl full-sync",
                          skip: { $0.details?["dryRun"] == .bool(true) })
        case .consistencyOK:
            guard let verify = newest("verify-consistency") else {
                return (false, "no consistency check in the journal: run `syncctl verify-consistency`")
            }
            let when = RolloutFacts.describe(verify.time)
            guard verify.result == "ok" else {
                return (false, "the last consistency check (\(when)) ended '\(verify.result)': see its report, then `syncctl full-sync` or `syncctl verify-consistency --repair`")
            }
            return (true, "local and Atlas consistent at \(when)")
        case .consistencyRecent:
            return recent("verify-consistency", maximumAge: RolloutFact.consistencyMaximumAge, what: "consistency check",
                          fix: "syncctl verify-consistency", skip: { _ in false })
        case .perfTestOK:
            return lastRun("perf-test", what: "performance test")
        case .resilienceTestOK:
            return lastRun("resilience-test", what: "resilience test")
        case .signedOff(let phase):
            guard let signOff = newest("sign-off", where: { $0.details?["phase"] == .string(phase) }) else {
                return (false, "\(phase) has not been signed off: `syncctl checklist \(phase) --sign-off NAME`")
            }
            let name = signOff.details?["name"]?.stringValue ?? signOff.user
            return (true, "\(phase) signed off by \(name) on \(RolloutFacts.describe(signOff.time))")
        }
    }

    /// The newest run of a test command passed (its thresholds met, its verdicts held).
    private func lastRun(_ command: String, what: String) -> (Bool, String) {
        guard let run = newest(command) else {
            return (false, "no \(what) in the journal: run `syncctl \(command)`")
        }
        let when = RolloutFacts.describe(run.time)
        guard run.result == "ok" else {
            return (false, "the last \(what) (\(when)) ended '\(run.result)': see its report and run `syncctl \(command)` again")
        }
        return (true, "\(what) passed \(when)")
    }

    private func recent(_ command: String, maximumAge: TimeInterval, what: String, fix: String, skip: (JournalEntry) -> Bool) -> (Bool, String) {
        guard let entry = newest(command, where: { $0.result == "ok" && !skip($0) }) else {
            return (false, "no successful \(what) in the journal: run `\(fix)` (and schedule it, see Examples/)")
        }
        let age = now.timeIntervalSince(entry.time)
        let text = "last successful \(what) \(RolloutFacts.describe(entry.time)) (\(RolloutFacts.formatAge(age)) ago)"
        return age <= maximumAge ? (true, text) : (false, text + ": is its schedule running? See Examples/")
    }

    private func newest(_ command: String, where filter: (JournalEntry) -> Bool = { _ in true }) -> JournalEntry? {
        entries.last { $0.command == command && filter($0) }
    }

    private func sourceName(_ source: SettingSource) -> String {
        switch source {
        case .file: settings.envFile ?? "the dotenv file"
        case .env: "the environment"
        case .flag: "the command line"
        case .default: "the default"
        }
    }

    /// A time as operators read it in a journal: `2025-01-31 03:00 UTC`.
    public static func describe(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return formatter.string(from: date)
    }

    /// `45 s`, `12 min`, `5.2 h`, `3 days`.
    public static func formatAge(_ seconds: TimeInterval) -> String {
        if seconds < 60 { return "\(max(0, Int(seconds))) s" }
        return Preflight.formatAge(seconds)
    }
}
