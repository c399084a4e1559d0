import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where the rollout stands, for `syncctl status`: the sync switch and exclusions as the
/// settings say now, and the newest journal entries for each kind of step. Read from files
/// only — no server is asked, so it answers instantly even with Atlas down.
public struct RolloutStatus: Sendable, Codable, Equatable {
    public let envFile: String?
    /// `SYNC_ENABLED`; nil when its value is invalid (see `problems`).
    public let syncEnabled: Bool?
    public let syncEnabledSource: SettingSource
    public let excludedCollections: [String]
    public let journal: String
    /// The newest `enable` or `disable`.
    public let lastChange: JournalEntry?
    public let lastBackup: JournalEntry?
    public let lastFullSync: JournalEntry?
    public let lastVerify: JournalEntry?
    /// The newest sign-off of each phase that has one.
    public let signOffs: [String: JournalEntry]
    /// Invalid values among the settings read.
    public let problems: [String]

    /// Every key is written, absent values as `null`, so a script can rely on the shape.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(envFile, forKey: .envFile)
        try container.encode(syncEnabled, forKey: .syncEnabled)
        try container.encode(syncEnabledSource, forKey: .syncEnabledSource)
        try container.encode(excludedCollections, forKey: .excludedCollections)
        try container.encode(journal, forKey: .journal)
        try container.encode(lastChange, forKey: .lastChange)
        try container.encode(lastBackup, forKey: .lastBackup)
        try container.encode(lastFullSync, forKey: .lastFullSync)
        try container.encode(lastVerify, forKey: .lastVerify)
        try container.encode(signOffs, forKey: .signOffs)
        try container.encode(problems, forKey: .problems)
    }

    /// Gathers the status from the settings and the journal (the queue's figures are
    /// `QueueReport`'s).
    public static func gather(settings: RolloutSettings) -> RolloutStatus {
        let journal = Journal(state: settings.state)
        let entries = journal.entries()
        func newest(_ commands: Set<String>) -> JournalEntry? {
            entries.last { commands.contains($0.command) }
        }
        var signOffs: [String: JournalEntry] = [:]
        for entry in entries where entry.command == "sign-off" {
            if let phase = entry.details?["phase"]?.stringValue { signOffs[phase] = entry }
        }
        return RolloutStatus(
            envFile: settings.envFile, syncEnabled: settings.syncEnabled, syncEnabledSource: settings.syncEnabledSource,
            excludedCollections: settings.excludedCollections, journal: journal.path,
            lastChange: newest(["enable", "disable"]), lastBackup: newest(["backup"]),
            lastFullSync: entries.last { $0.command == "full-sync" && $0.details?["dryRun"] != .bool(true) },
            lastVerify: newest(["verify-consistency"]), signOffs: signOffs,
            problems: settings.problems)
    }
}
