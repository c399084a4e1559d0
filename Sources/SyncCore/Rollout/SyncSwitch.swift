import Foundation

/// The settings `syncctl enable` and `syncctl disable` write, and what an edit means for the data:
/// which collections start (or stop) syncing, and whether a full sync is now due.
public enum SyncSwitch {
    /// What `enable` does with `SYNC_EXCLUDED_COLLECTIONS`.
    public enum Exclusions: Sendable, Equatable {
        /// Leave it as it is.
        case keep
        /// `--exclude a,b`: exactly these (the gradual rollout, option A).
        case exclude([String])
        /// `--include-all`: empty (option B, and "Enable Remaining Collections").
        case includeAll
    }

    /// The dotenv changes for `enable`. An empty exclusion list is written only when the key is in
    /// the file: a missing key already means "none".
    public static func enableChanges(_ exclusions: Exclusions, in file: DotenvFile) -> [(key: String, value: String)] {
        var changes: [(key: String, value: String)] = [(SettingKey.syncEnabled.rawValue, "true")]
        let key = SettingKey.excludedCollections.rawValue
        switch exclusions {
        case .keep:
            break
        case .exclude(let names):
            changes.append((key, names.joined(separator: ",")))
        case .includeAll:
            if file.lastEntry(for: key) != nil { changes.append((key, "")) }
        }
        return changes
    }

    /// The dotenv change for `disable`.
    public static let disableChanges: [(key: String, value: String)] = [(SettingKey.syncEnabled.rawValue, "false")]

    /// What an edit changes for the data, judged from the file before and after (the values the
    /// application reads from it).
    public struct Effect: Sendable, Codable, Equatable {
        public let wasEnabled: Bool
        public let nowEnabled: Bool
        /// Collections that start syncing while sync stays on.
        public let newlyIncluded: [String]
        /// Collections that stop syncing.
        public let newlyExcluded: [String]

        /// A full sync is due when sync was just switched on (Atlas lacks what was written while
        /// it was off), or when collections joined: the queue only carries new writes.
        public var fullSyncDue: Bool { nowEnabled && (!wasEnabled || !newlyIncluded.isEmpty) }

        /// The exact command to run, or nil when none is due. `extraArguments` (e.g.
        /// `--env-file server/.env.test`) are inserted as given, already quoted.
        public func fullSyncCommand(extraArguments: [String] = []) -> String? {
            guard fullSyncDue else { return nil }
            var words = ["syncctl", "full-sync"] + extraArguments
            if wasEnabled {
                words += ["--collections", SyncSwitch.shellQuoted(newlyIncluded.joined(separator: ","))]
            }
            return words.joined(separator: " ")
        }
    }

    public static func effect(of plan: DotenvEditPlan) -> Effect {
        let before = RolloutSettings.read(flags: [:], environment: [:], file: plan.original)
        let after = RolloutSettings.read(flags: [:], environment: [:], file: DotenvFile(text: plan.updated, path: plan.original.path))
        return Effect(
            wasEnabled: before.syncEnabled == true, nowEnabled: after.syncEnabled == true,
            newlyIncluded: before.excludedCollections.filter { !after.excludedCollections.contains($0) },
            newlyExcluded: after.excludedCollections.filter { !before.excludedCollections.contains($0) })
    }

    /// `text` as one shell word: unchanged when it is plain, else in single quotes.
    public static func shellQuoted(_ text: String) -> String {
        let plain = !text.isEmpty && text.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "-", ",", "/", ":", "=", "+", "@": true
            default: false
            }
        }
        return plain ? text : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
