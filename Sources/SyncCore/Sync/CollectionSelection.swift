/// One collection as full-sync and verify-consistency see it: present locally, in Atlas, or
/// both, and whether it is excluded.
public struct SelectedCollection: Sendable, Equatable {
    public let name: String
    public let local: CollectionInfo?
    public let atlas: CollectionInfo?
    /// In `SYNC_EXCLUDED_COLLECTIONS`: listed, never read or written.
    public let excluded: Bool

    public enum Presence: String, Sendable, Codable {
        case both
        case localOnly = "local-only"
        case atlasOnly = "atlas-only"
    }

    /// Either side has a default collation (its string `_id`s sort by it, not by bytes).
    var hasCollation: Bool {
        local?.options["collation"] != nil || atlas?.options["collation"] != nil
    }

    public var presence: Presence {
        local == nil ? .atlasOnly : atlas == nil ? .localOnly : .both
    }
}

/// Which collections a run covers: every collection of the local and the Atlas database (or
/// only those named with `--collections`), in name order. `system.*` collections belong to
/// the server, not the application, and are left out; excluded collections are listed as
/// excluded and never touched, even when named with `--collections`.
public enum CollectionSelection {
    public static func select(
        local: [CollectionInfo], atlas: [CollectionInfo], excluded: [String], only: [String]? = nil,
        localDatabase: String = "local", atlasDatabase: String = "Atlas"
    ) throws(ConfigError) -> [SelectedCollection] {
        let localByName = Dictionary(local.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let atlasByName = Dictionary(atlas.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var names = Set(localByName.keys).union(atlasByName.keys).filter { !$0.hasPrefix("system.") }
        if let only {
            let unknown = only.filter { !names.contains($0) }
            if let first = unknown.first {
                let known = names.sorted().joined(separator: ", ")
                throw ConfigError(.configuration,
                    "--collections: no collection '\(first)' in local \(localDatabase) or Atlas \(atlasDatabase): check the name (collections: \(known.isEmpty ? "none" : known))")
            }
            names = Set(only)
        }
        let excludedSet = Set(excluded)
        return names.sorted().map { name in
            SelectedCollection(name: name, local: localByName[name], atlas: atlasByName[name], excluded: excludedSet.contains(name))
        }
    }
}
