import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One line of the rollout journal: who changed what, when, and how it ended.
public struct JournalEntry: Sendable, Codable, Equatable {
    /// An old → new value pair.
    public struct Change: Sendable, Codable, Equatable {
        public let old: String?
        public let new: String?
        public init(old: String?, new: String?) {
            self.old = old
            self.new = new
        }
    }

    public var time: Date
    public var user: String
    public var host: String
    /// The subcommand: "enable", "disable", "backup", "full-sync", "verify-consistency", "sign-off", …
    public var command: String
    /// "ok", "problems", "failed" or "interrupted".
    public var result: String
    /// Settings or state that changed, by name.
    public var changes: [String: Change]?
    /// Anything else worth keeping (counts, paths, the phase signed off).
    public var details: [String: JSONValue]?

    public init(command: String, result: String, changes: [String: Change]? = nil, details: [String: JSONValue]? = nil,
                time: Date = Date(), user: String = JournalEntry.currentUser, host: String = JournalEntry.currentHost) {
        self.time = time
        self.user = user
        self.host = host
        self.command = command
        self.result = result
        self.changes = changes
        self.details = details
    }

    public static var currentUser: String {
        let environment = ProcessInfo.processInfo.environment
        if let user = environment["SUDO_USER"] ?? environment["USER"] ?? environment["LOGNAME"], !user.isEmpty { return user }
        return getpwuid(geteuid()).flatMap { $0.pointee.pw_name.map { String(cString: $0) } } ?? "uid \(geteuid())"
    }

    public static var currentHost: String {
        ProcessInfo.processInfo.hostName
    }
}

/// The rollout journal, `$SYNC_STATE_DIR/journal.jsonl`: one JSON line per state change,
/// appended and fsynced, never rewritten. Readers skip a line that does not parse (a line
/// torn by a crash) rather than fail.
public struct Journal: Sendable {
    public let path: String

    public init(state: StateDirectory) {
        path = state.journalPath
    }

    public init(path: String) {
        self.path = path
    }

    /// Appends one entry as one line.
    public func append(_ entry: JournalEntry) throws(StateError) {
        guard var line = try? StateJSON.encoder().encode(entry) else {
            throw StateError(.unexpected, "cannot encode a journal entry for \(entry.command)")
        }
        line.append(UInt8(ascii: "\n"))
        try AppendFile.append(line, to: path, what: "the journal", fsync: true)
    }

    /// Every readable entry, oldest first. A missing journal has no entries.
    public func entries() -> [JournalEntry] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let decoder = StateJSON.decoder()
        return data.split(separator: UInt8(ascii: "\n")).compactMap { try? decoder.decode(JournalEntry.self, from: Data($0)) }
    }

    /// The newest entry for `command` (and, if given, matching `filter`).
    public func last(_ command: String, where filter: (JournalEntry) -> Bool = { _ in true }) -> JournalEntry? {
        entries().last { $0.command == command && filter($0) }
    }
}
