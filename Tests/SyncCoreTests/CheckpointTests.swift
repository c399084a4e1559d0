import Foundation
import Testing

@testable import SyncCore

struct CheckpointTests {
    /// The file keeps whole seconds (ISO 8601), so the sample uses whole seconds too.
    private func checkpoint(collections: [String] = ["a", "b"], prune: Bool = true,
                            updated: Date = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))) throws -> SyncCheckpoint {
        var checkpoint = SyncCheckpoint(
            localDatabase: "bomba", atlasDatabase: "bomba", localURI: "mongodb://l/bomba", atlasURI: "mongodb://u:***@a/bomba",
            collections: collections, prune: prune, started: Date(timeIntervalSince1970: 1_700_000_000), updated: updated)
        let nan = try #require(DocumentID(of: try BSONDocument(extendedJSON: #"{"_id": {"$numberDouble": "NaN"}}"#)))
        let key = try #require(DocumentID(of: ["_id": .document(["z": 1, "a": .binary(subtype: 4, data: [1, 2])])]))
        checkpoint.partitions = [
            .init(collection: "a", range: IDRange(lower: nil, upper: nan), resumeFrom: nil, done: true),
            .init(collection: "a", range: IDRange(lower: nan, upper: nil), resumeFrom: key, done: false),
        ]
        return checkpoint
    }

    @Test func checkpointRoundTripsExactBoundsThroughItsFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("syncctl-cp-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = CheckpointFile(state: StateDirectory(path: directory))
        #expect(file.load() == nil)
        let saved = try checkpoint()
        try file.save(saved)
        let loaded = try #require(file.load())
        #expect(loaded == saved)
        #expect(loaded.partitions[1].resumeFrom?.filter.bytes == saved.partitions[1].resumeFrom?.filter.bytes)
        // Readable for people too.
        let text = try String(contentsOfFile: file.path, encoding: .utf8)
        #expect(text.contains("\"json\""))
        let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        file.remove()
        #expect(file.load() == nil)
    }

    @Test func aCheckpointIsResumedOnlyByTheSameRunWhileRecent() throws {
        let saved = try checkpoint()
        #expect(saved.canResume(as: try checkpoint()))
        #expect(!saved.canResume(as: try checkpoint(collections: ["a"])))
        #expect(!saved.canResume(as: try checkpoint(prune: false)))
        let old = try checkpoint(updated: Date(timeIntervalSinceNow: -SyncCheckpoint.maximumAge - 60))
        #expect(!old.canResume(as: try checkpoint()))
    }

    @Test func aDamagedCheckpointCountsAsNone() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("syncctl-cp-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = CheckpointFile(state: StateDirectory(path: directory))
        try FileManager.default.createDirectory(atPath: (file.path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data("{\"version\": 1, \"partitions\": [".utf8).write(to: URL(fileURLWithPath: file.path))
        #expect(file.load() == nil)
    }
}
