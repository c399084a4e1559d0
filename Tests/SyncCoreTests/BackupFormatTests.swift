import Crypto
import Foundation
import SyncTestSupport
import Testing

@testable import SyncCore


/// Every document of every collection, in the dump's order, read through `scan`.
private func readAll(_ input: DumpInput) async throws -> [String: [BSONDocument]] {
    var documents: [String: [BSONDocument]] = [:]
    try await input.scan(database: nil) { event in
        if case .document(_, let name, let document) = event { documents[name, default: []].append(document) }
    }
    return documents
}

private func digestInIDOrder(_ documents: [BSONDocument]) -> String {
    let sorted = documents.sorted { lhs, rhs in
        guard case .objectID(let a)? = lhs["_id"], case .objectID(let b)? = rhs["_id"] else { return false }
        return a < b
    }
    var hasher = SHA256()
    for document in sorted { hasher.update(data: document.bytes) }
    return hasher.finalize().map { String($0, radix: 16).leftPadded(to: 2) }.joined()
}

struct BackupFormatTests {
    @Test(arguments: ["dump-dir", "dump-gzip", "bomba.archive"])
    func everyFixtureLayoutReadsWithTheExpectedCountsAndDigests(_ layout: String) async throws {
        let input = try DumpInput.open("\(DumpFixture.root)/\(layout)")
        #expect(input.databases == ["bomba"])
        #expect(Set(input.collections.map(\.name)) == Set(DumpFixture.collections))
        let expected = try DumpFixture.expected()
        let documents = try await readAll(input)
        for name in DumpFixture.collections {
            #expect(Int64(documents[name]?.count ?? 0) == expected[name]?.count, "\(layout) \(name)")
            #expect(digestInIDOrder(documents[name] ?? []) == expected[name]?.sha256, "\(layout) \(name)")
        }
        let report = try await input.check()
        #expect(report.documents == 1670)
    }

    @Test func fixtureMetadataGivesIndexNamesAndOptions() throws {
        let input = try DumpInput.open("\(DumpFixture.root)/dump-dir")
        let users = try #require(input.collections.first { $0.name == "users" })
        #expect(users.metadata.indexes.compactMap { $0["name"]?.stringValue } == ["_id_", "idx_users_email"])
        #expect(users.metadata.indexesToCreate.count == 1)
        #expect(users.metadata.indexesToCreate.first?["unique"] == .bool(true))
        let orders = try #require(input.collections.first { $0.name == "orders" })
        #expect(orders.metadata.indexesToCreate.first?["key"] == .document(["user": 1, "createdAt": 1]))
    }

    @Test func gzippedArchiveReadsLikeThePlainOne() async throws {
        let plain = try DumpInput.open("\(DumpFixture.root)/bomba.archive")
        let gzipped = try gzipCopy("\(DumpFixture.root)/bomba.archive")
        let input = try DumpInput.open(gzipped)
        #expect(input.format == .mongodumpArchive)
        let a = try await readAll(plain)
        let b = try await readAll(input)
        #expect(a == b)
        #expect(input.archiveVersions?.tool == "100.7.0")
    }

    @Test(arguments: DumpFixture.collections)
    func metadataWrittenIsMongodumpsTextByteForByte(_ name: String) throws {
        let text = try String(contentsOfFile: "\(DumpFixture.root)/dump-dir/bomba/\(name).metadata.json", encoding: .utf8)
        let metadata = try CollectionMetadata(json: text, fallbackName: "unused")
        #expect(metadata.json == text)
    }

    @Test func metadataKeysFollowMongodumpsOrderWithOptionsAndUUID() throws {
        let metadata = CollectionMetadata(
            collectionName: "capped log", options: ["capped": true, "size": 4096],
            indexes: [["v": 2, "key": .document(["_id": 1]), "name": "_id_"]], uuid: "0123456789abcdef0123456789abcdef")
        #expect(metadata.document.keys == ["options", "indexes", "uuid", "collectionName", "type"])
        #expect(metadata.json == #"{"options":{"capped":true,"size":{"$numberInt":"4096"}},"indexes":[{"v":{"$numberInt":"2"},"key":{"_id":{"$numberInt":"1"}},"name":"_id_"}],"uuid":"0123456789abcdef0123456789abcdef","collectionName":"capped log","type":"collection"}"#)
        #expect(try CollectionMetadata(json: metadata.json, fallbackName: "x") == metadata)
        let bare = CollectionMetadata(collectionName: "c")
        #expect(bare.document.keys == ["indexes", "collectionName", "type"])
    }

    @Test func compactJSONKeepsWhitespaceInsideStrings() {
        #expect(CollectionMetadata.compact(#"{ "a b" : "c \" d", "e" : [ 1, { } ] }"#) == #"{"a b":"c \" d","e":[1,{}]}"#)
    }

    @Test func collectionNamesAreEscapedAsMongodumpDoes() {
        #expect(DumpFileName.escape("order") == "order")
        #expect(DumpFileName.escape("with space") == "with%20space")
        #expect(DumpFileName.escape("with.dots") == "with.dots")
        #expect(DumpFileName.escape("a/b;c,d?e%f") == "a%2Fb%3Bc%2Cd%3Fe%25f")
        #expect(DumpFileName.escape("$&+:=@~-_") == "$&+:=@~-_")
        #expect(DumpFileName.escape("ünï") == "%C3%BCn%C3%AF")
        for name in ["with space", "ünïcødé", "a/b", "100%", "order"] {
            #expect(DumpFileName.unescape(DumpFileName.escape(name)) == name)
        }
        #expect(DumpFileName.unescape("bad%zz") == nil)
        #expect(DumpFileName.unescape("bad%+f") == nil, "a sign is not a hex digit (Go rejects it)")
        #expect(DumpFileName.unescape("bad%4") == nil)
        #expect(DumpFileName.bson("a b", gzip: true) == "a%20b.bson.gz")
        #expect(DumpFileName.metadata("a", gzip: false) == "a.metadata.json")
    }

    @Test func longCollectionNamesGetMongodumpsTruncatedHashedFileName() {
        let name = String(repeating: "x", count: 300)
        let escaped = DumpFileName.escape(name)
        #expect(escaped.hasPrefix(String(repeating: "x", count: 208) + "%24"))
        #expect(escaped.utf8.count == 238)
        #expect((escaped + ".metadata.json.gz").utf8.count <= 255)
        #expect(!escaped.contains("+") && !escaped.contains("/") && !escaped.contains("="))
    }

    @Test func crc64IsGosECMAChecksum() {
        var crc = CRC64()
        crc.update(Array("123456789".utf8))
        #expect(UInt64(bitPattern: crc.value) == 0x995D_C9BB_DF19_39FA)
        #expect(CRC64().value == 0)
    }

    @Test func gzipWrittenByUsReadsBackAndConcatenatedMembersReadAsOne() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("syncctl-gz-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let payload = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 * 7 / 3) }
        for name in ["a.gz", "b.gz"] {
            let writer = try DumpFileWriter(root: directory, path: name, gzip: true)
            try writer.write(payload)
            _ = try writer.finish()
        }
        let joined = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/a.gz")) + Data(contentsOf: URL(fileURLWithPath: "\(directory)/b.gz"))
        try joined.write(to: URL(fileURLWithPath: "\(directory)/ab.gz"))
        #expect(try readGzip("\(directory)/a.gz") == payload)
        #expect(try readGzip("\(directory)/ab.gz") == payload + payload)
        let truncated = joined.prefix(joined.count - 9)
        try truncated.write(to: URL(fileURLWithPath: "\(directory)/cut.gz"))
        #expect(throws: BackupError.self) { try readGzip("\(directory)/cut.gz") }
    }

    @Test func truncatedBSONFileIsRefusedNamingTheFile() async throws {
        let copy = try DumpFixture.copy("dump-dir")
        let file = "\(copy)/bomba/bills.bson"
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        try data.prefix(data.count - 10).write(to: URL(fileURLWithPath: file))
        let input = try DumpInput.open(copy)
        let error = await #expect(throws: BackupError.self) { try await input.check() }
        #expect(error?.kind == .badInput)
        #expect(error?.message.contains("bomba/bills.bson") == true)
        #expect(error?.message.contains("truncated") == true)
    }

    @Test func truncatedOrCorruptArchiveIsRefused() async throws {
        let archive = try DumpFixture.copy("bomba.archive")
        var data = try Data(contentsOf: URL(fileURLWithPath: archive))
        try data.prefix(data.count - 100).write(to: URL(fileURLWithPath: archive))
        let truncated = try DumpInput.open(archive)
        let cut = await #expect(throws: BackupError.self) { try await truncated.check() }
        #expect(cut?.kind == .badInput)
        // A flipped byte inside a string value is still well-formed BSON: only the CRC sees it.
        let original = try Data(contentsOf: URL(fileURLWithPath: "\(DumpFixture.root)/bomba.archive"))
        data = original
        let position = try #require(data.range(of: Data("no onions".utf8))).lowerBound
        data[position] = UInt8(ascii: "N")
        try data.write(to: URL(fileURLWithPath: archive))
        let flipped = try DumpInput.open(archive)
        let crc = await #expect(throws: BackupError.self) { try await flipped.check() }
        #expect(crc?.message.contains("CRC") == true)
    }

    @Test func missingPathIsInputMissingAndForeignFileIsBadInput() throws {
        let missing = #expect(throws: BackupError.self) { try DumpInput.open("/nonexistent/backup") }
        #expect(missing?.kind == .inputMissing)
        let foreign = try DumpFixture.copy("expected.json")
        let notArchive = #expect(throws: BackupError.self) { try DumpInput.open(foreign) }
        #expect(notArchive?.kind == .badInput)
    }

    @Test func damagedMetadataIsRefusedNamingTheFile() throws {
        let copy = try DumpFixture.copy("dump-dir")
        try "{not json".write(toFile: "\(copy)/bomba/users.metadata.json", atomically: true, encoding: .utf8)
        let error = #expect(throws: BackupError.self) { try DumpInput.open(copy) }
        #expect(error?.message.contains("users.metadata.json") == true)
    }

    @Test func aDatabaseDirectoryAloneIsADump() throws {
        let input = try DumpInput.open("\(DumpFixture.root)/dump-dir/bomba")
        #expect(input.databases == ["bomba"])
        #expect(input.collections.count == 5)
    }

    @Test func stalePartialBackupsAreRemovedAndNeverListed() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("syncctl-cat-\(UUID().uuidString)").path
        // A pid that cannot be alive (above Linux's pid_max).
        let stale = "\(directory)/.2026-01-01T00-00-00Z.partial-99999999"
        let live = "\(directory)/.2026-01-01T00-00-01Z.partial-\(getpid())"
        for path in [stale, live] { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        #expect(BackupCatalog.list(in: directory).isEmpty)
        #expect(BackupCatalog.removeStalePartials(in: directory) == [stale])
        #expect(FileManager.default.fileExists(atPath: live))
    }

    @Test func newBackupPathIsAUTCTimeNeverTaken() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("syncctl-cat-\(UUID().uuidString)").path
        let now = Date(timeIntervalSince1970: 1_780_000_000)
        let first = BackupCatalog.newBackupPath(in: directory, now: now)
        #expect(first == "\(directory)/2026-05-28T20-26-40Z")
        try FileManager.default.createDirectory(atPath: first, withIntermediateDirectories: true)
        #expect(BackupCatalog.newBackupPath(in: directory, now: now) == "\(first)-2")
    }

    @Test func pathsSplitWithoutFoundationsOneCharacterCrash() {
        #expect(PathParts.parent("b") == ".")
        #expect(PathParts.name("b") == "b")
        #expect(PathParts.parent("backups/b/") == "backups")
        #expect(PathParts.name("backups/b/") == "b")
        #expect(PathParts.parent("/b") == "/")
        #expect(PathParts.canonical("./x/../b") == PathParts.canonical("b"))
        #expect(BackupCatalog.partialPath(for: "b") == "./.b.partial-\(getpid())")
    }

    @Test func pruneNeverRemovesTheProtectedBackupHoweverItIsSpelled() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("syncctl-prune-\(UUID().uuidString)").path
        for (index, name) in ["a", "b", "c"].enumerated() {
            try FileManager.default.createDirectory(atPath: "\(directory)/\(name)", withIntermediateDirectories: true)
            let manifest = BackupManifest(
                toolVersion: "t", serverVersion: "7.0", source: "s", database: "d", gzip: false,
                startedAt: Date(timeIntervalSince1970: Double(index)), finishedAt: Date(timeIntervalSince1970: Double(index)),
                collections: [], extraFiles: [], verification: nil)
            try manifest.write(to: "\(directory)/\(name)")
        }
        // The oldest is the one "just written" (an --out with an old name): it stays.
        let removed = try BackupCatalog.prune(in: directory, keep: 1, protecting: "\(directory)/./b/../a/")
        #expect(removed == ["\(directory)/b"])
        #expect(BackupCatalog.list(in: directory).map(\.name) == ["a", "c"])
    }

    private func gzipCopy(_ path: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("syncctl-gz-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let writer = try DumpFileWriter(root: directory, path: "archive.gz", gzip: true)
        try writer.write(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        _ = try writer.finish()
        return "\(directory)/archive.gz"
    }

    private func readGzip(_ path: String) throws -> [UInt8] {
        let source = try GzipByteSource(try FileByteSource(path: path))
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = try chunk.withUnsafeMutableBytes { raw in Result { () throws(BackupError) in try source.read(into: raw) } }.get()
            if count == 0 { return result }
            result += chunk[0..<count]
        }
    }
}
