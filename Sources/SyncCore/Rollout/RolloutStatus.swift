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
    /// The persisted sync queue, once the file exists.
    public struct Queue: Sendable, Codable, Equatable {
        public let path: String
        /// Complete lines (ending in a newline) in the file: the entries written so far. The
        /// queue's own issue refines this into pending entries.
        public let depth: Int
    }

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
    public let queue: Queue?
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
        try container.encode(queue, forKey: .queue)
        try container.encode(problems, forKey: .problems)
    }

    /// Gathers the status from the settings, the journal and the queue file.
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
            queue: countLines(settings.queueFile).map { Queue(path: settings.queueFile, depth: $0) },
            problems: settings.problems)
    }

    /// The number of complete lines in the file, read in chunks (a queue can be large); nil when
    /// the file does not exist or cannot be read.
    static func countLines(_ path: String) -> Int? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var count = 0
        var buffer = [UInt8](repeating: 0, count: 256 * 1024)
        while true {
            let read = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if read < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if read == 0 { return count }
            for byte in buffer[0..<read] where byte == 0x0A { count += 1 }
        }
    }
}
