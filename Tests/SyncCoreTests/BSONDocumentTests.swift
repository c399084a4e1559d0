import Foundation
import Testing

@testable import SyncCore

/// One document holding every BSON type TESTING.md lists, with the awkward values.
let everyTypeJSON = """
    {"double": {"$numberDouble": "1.5"}, "nan": {"$numberDouble": "NaN"}, "inf": {"$numberDouble": "Infinity"},
     "ninf": {"$numberDouble": "-Infinity"}, "nzero": {"$numberDouble": "-0.0"},
     "string": "naïve — 日本語 🚀", "document": {"a": {"b": [1, 2]}}, "array": [1, "two", {"three": 3}],
     "bin0": {"$binary": {"base64": "AAECAw==", "subType": "00"}},
     "bin3": {"$binary": {"base64": "c//SZESzTGmQ6OfR38A11A==", "subType": "03"}},
     "bin4": {"$binary": {"base64": "c//SZESzTGmQ6OfR38A11A==", "subType": "04"}},
     "bin5": {"$binary": {"base64": "XrRzXr8SOr6wGkGWDGdQhw==", "subType": "05"}},
     "bin128": {"$binary": {"base64": "/w==", "subType": "80"}},
     "oid": {"$oid": "507f1f77bcf86cd799439011"}, "bool": true,
     "pre1970": {"$date": {"$numberLong": "-2208988800000"}},
     "farFuture": {"$date": {"$numberLong": "253402300800000"}},
     "null": null, "regex": {"$regularExpression": {"pattern": "^a.*b$", "options": "im"}},
     "code": {"$code": "function() { return 1; }"}, "int32": {"$numberInt": "-7"},
     "int64small": {"$numberLong": "5"}, "int64": {"$numberLong": "9007199254740993"},
     "ts": {"$timestamp": {"t": 1700000000, "i": 7}}, "dec": {"$numberDecimal": "1234.5600"},
     "min": {"$minKey": 1}, "max": {"$maxKey": 1}}
    """

@Test func everyBSONTypeSurvivesDecodeAndReencode() throws {
    let original = try BSONDocument(extendedJSON: everyTypeJSON)
    let rebuilt = BSONDocument(pairs: original.elements.map { ($0.key, $0.value) })
    #expect(rebuilt.bytes == original.bytes)
    #expect(original.keys.first == "double")
    #expect(original.keys.last == "max")
}

@Test func canonicalExtendedJSONRoundTripsByteExactly() throws {
    let original = try BSONDocument(extendedJSON: everyTypeJSON)
    let again = try BSONDocument(extendedJSON: original.canonicalExtendedJSON)
    #expect(again.bytes == original.bytes)
}

@Test func decodedValuesKeepTheirBSONTypes() throws {
    let document = try BSONDocument(extendedJSON: everyTypeJSON)
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
