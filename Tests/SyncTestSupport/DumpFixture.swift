import Foundation

/// The real mongodump 100.7.0 output copied into Tests/Fixtures (from shared/fixtures), with
/// its expected counts and digests.
public enum DumpFixture {
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/mongodump-100.7.0").path
    public static let collections = ["bills", "menuitems", "orders", "sessions", "users"]

    /// expected.json: per collection, the count and the SHA-256 of the raw documents in _id order.
    public static func expected() throws -> [String: (count: Int64, sha256: String)] {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(root)/expected.json"))
        let json = try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]] ?? [:]
        return json.mapValues { (($0["count"] as? NSNumber)?.int64Value ?? -1, $0["sha256_of_raw_docs_in_id_order"] as? String ?? "") }
    }

    /// A writable copy of a fixture path in a fresh temporary directory.
    public static func copy(_ relative: String) throws -> String {
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("syncctl-fixture-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        let destination = target.appendingPathComponent(URL(fileURLWithPath: relative).lastPathComponent).path
        try FileManager.default.copyItem(atPath: "\(root)/\(relative)", toPath: destination)
        return destination
    }
}
