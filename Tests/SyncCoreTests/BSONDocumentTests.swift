import Foundation
import Testing

@testable import SyncCore
import SyncTestSupport

@Test func everyBSONTypeSurvivesDecodeAndReencode() throws {
    let original = try BSONDocument(extendedJSON: BSONSamples.everyTypeJSON)
    let rebuilt = BSONDocument(pairs: original.elements.map { ($0.key, $0.value) })
    #expect(rebuilt.bytes == original.bytes)
    #expect(original.keys.first == "_id")
    #expect(original.keys.last == "max")
}

@Test func canonicalExtendedJSONRoundTripsByteExactly() throws {
    let original = try BSONDocument(extendedJSON: BSONSamples.everyTypeJSON)
    let again = try BSONDocument(extendedJSON: original.canonicalExtendedJSON)
    #expect(again.bytes == original.bytes)
}

@Test func decodedValuesKeepTheirBSONTypes() throws {
    let document = try BSONDocument(extendedJSON: BSONSamples.everyTypeJSON)
    #expect(document["int64small"] == .int64(5))
    #expect(document["int32"] == .int32(-7))
    #expect(document["nzero"].flatMap(\.doubleValue).map { $0 == 0 && $0.sign == .minus } == true)
    #expect(document["nan"].flatMap(\.doubleValue)?.isNaN == true)
    #expect(document["pre1970"] == .datetime(-2_208_988_800_000))
    #expect(document["bin128"] == .binary(subtype: 0x80, data: [0xFF]))
    #expect(document["regex"] == .regex(pattern: "^a.*b$", options: "im"))
    #expect(document["ts"] == .timestamp(seconds: 1_700_000_000, increment: 7))
    #expect(document["dec"].map { "\($0)" }?.contains("1234.5600") == true)
    #expect(document["string"] == .string("naïve — 日本語 🚀"))
    #expect(document["missing"] == nil)
}

@Test func rawValueLiftsIDBytesWithoutDecoding() throws {
    let document: BSONDocument = ["_id": .int64(42), "x": "y"]
    let raw = try #require(document.rawValue(of: "_id"))
    #expect(raw.type == 0x12)
    #expect(raw.bytes == [42, 0, 0, 0, 0, 0, 0, 0])
}

@Test func malformedBytesAreRejected() {
    #expect(throws: BSONError.self) { try BSONDocument(bytes: [5, 0, 0, 0]) }
    #expect(throws: BSONError.self) { try BSONDocument(bytes: [6, 0, 0, 0, 0, 0]) }
    #expect(throws: BSONError.self) { try BSONDocument(extendedJSON: "{not json") }
}

@Test func stringsWithEmbeddedNULKeepTheirFullLength() {
    let document: BSONDocument = ["s": .string("a\u{0}b")]
    #expect(document["s"] == .string("a\u{0}b"))
}

@Test func objectIDHexRoundTrips() throws {
    let id = try #require(ObjectID(hex: "507f1f77bcf86cd799439011"))
    #expect(id.hex == "507f1f77bcf86cd799439011")
    #expect(ObjectID(hex: "nothex") == nil)
    #expect(ObjectID.generate() != ObjectID.generate())
}

@Test func serverVersionReadsVersionArray() {
    let reply: BSONDocument = ["version": "4.2.25", "versionArray": .array([4, 2, 25, 0])]
    let version = ServerVersion(buildInfo: reply)
    #expect(version == ServerVersion(major: 4, minor: 2, patch: 25))
    #expect(version.map { $0 < ServerVersion(major: 4, minor: 4, patch: 0) } == true)
}

@Test func creatableIndexSpecDropsOnlyTheLegacyNamespace() throws {
    let legacy = try BSONDocument(extendedJSON: #"{"v": 2, "key": {"email": 1}, "name": "idx_email", "ns": "bomba.users", "unique": true, "collation": {"locale": "fr", "strength": {"$numberInt": "2"}}}"#)
    let spec = legacy.creatableIndexSpec
    #expect(spec.keys == ["v", "key", "name", "unique", "collation"])
    let expected = try BSONDocument(extendedJSON: #"{"v": 2, "key": {"email": 1}, "name": "idx_email", "unique": true, "collation": {"locale": "fr", "strength": {"$numberInt": "2"}}}"#)
    #expect(spec.bytes == expected.bytes)
    let modern = try BSONDocument(extendedJSON: #"{"v": 2, "key": {"_id": 1}, "name": "_id_"}"#)
    #expect(modern.creatableIndexSpec.bytes == modern.bytes)
}
