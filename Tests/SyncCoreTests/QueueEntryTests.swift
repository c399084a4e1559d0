import Foundation
import Testing

@testable import SyncCore

/// The queue line format (README, "The queue file"): what we write, what we accept, what we
/// reject and why.
struct QueueEntryTests {
    static let ids: [BSONValue] = [
        .objectID(ObjectID(hex: "65f0a1b2c3d4e5f601234567")!), .int32(7), .int64(7), .int64(9_007_199_254_740_993), .double(7.0),
        .double(-0.0), .string("naïve — 日本語 \"quoted\" \\ \n tab\t"), .binary(subtype: 4, data: Array(repeating: 0xAB, count: 16)),
        .binary(subtype: 0x80, data: [1, 2, 3]), .document(["a": 1, "b": .document(["c": "d"])]),
        .decimal128(try! BSONDocument(extendedJSON: #"{"d": {"$numberDecimal": "1234.5600"}}"#)["d"]!.decimal128!),
        .datetime(-2_208_988_800_000), .bool(true), .null, .minKey, .maxKey,
        .timestamp(seconds: 1_700_000_000, increment: 7),
    ]

    @Test(arguments: ids)
    func everyIDKindRoundTripsThroughALineWithItsExactType(_ id: BSONValue) throws {
        let entry = QueueEntry(database: "bomba", collection: "orders", operation: .update, documentID: id)
        let line = entry.jsonLine
        #expect(!line.contains("\n"))
        let parsed = try QueueEntry(line: Array(line.utf8))
        #expect(parsed.id == entry.id)
        #expect(parsed.database == "bomba" && parsed.collection == "orders" && parsed.operation == .update)
        #expect(BSONDocument(pairs: [("_id", parsed.documentID)]).bytes == BSONDocument(pairs: [("_id", id)]).bytes)
        #expect(abs(parsed.time.timeIntervalSince(entry.time)) < 0.001)
    }

    @Test func lineIsPlainJSONWithTheDocumentedFields() throws {
        let time = Date(timeIntervalSince1970: 1_768_816_800.123)
        let entry = QueueEntry(id: UUID(uuidString: "3F2504E0-4F89-11D3-9A0C-0305E82C3301")!, time: time, database: "bomba",
                               collection: "order", operation: .insert, documentID: .objectID(ObjectID(hex: "507f1f77bcf86cd799439011")!))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(entry.jsonLine.utf8)) as? [String: Any])
        #expect(object["v"] as? Int == 1)
        #expect(object["id"] as? String == "3f2504e0-4f89-11d3-9a0c-0305e82c3301")
        #expect(object["time"] as? String == "2026-01-19T10:00:00.123Z")
        #expect(object["db"] as? String == "bomba")
        #expect(object["coll"] as? String == "order")
        #expect(object["op"] as? String == "insert")
        #expect((object["_id"] as? [String: String])?["$oid"] == "507f1f77bcf86cd799439011")
    }

    @Test func acceptsWhatOtherWritersProduce() throws {
        // Node's JSON.stringify order differs, times may carry an offset, CRLF endings, extra fields.
        let line = #"{"op":"delete","_id":{"$numberLong":"42"},"coll":"bills","db":"bomba","time":"2026-01-19T12:00:00+02:00","id":"3f2504e0-4f89-11d3-9a0c-0305e82c3301","v":1,"source":"api-7"}"# + "\r"
        let entry = try QueueEntry(line: Array(line.utf8))
        #expect(entry.operation == .delete)
        #expect(entry.documentID == .int64(42))
        #expect(entry.time == Date(timeIntervalSince1970: 1_768_816_800))
    }

    @Test(arguments: [
        ("{\"v\":1", "not a JSON object"),
        ("[1,2]", "not a JSON object"),
        (#"{"id":"3f2504e0-4f89-11d3-9a0c-0305e82c3301","time":"2026-01-19T10:00:00Z","db":"b","coll":"c","op":"insert","_id":1}"#, "no \"v\""),
        (#"{"v":2,"id":"3f2504e0-4f89-11d3-9a0c-0305e82c3301","time":"2026-01-19T10:00:00Z","db":"b","coll":"c","op":"insert","_id":1}"#, "not supported"),
        (#"{"v":1,"id":"not-a-uuid","time":"2026-01-19T10:00:00Z","db":"b","coll":"c","op":"insert","_id":1}"#, "not a UUID"),
        (#"{"v":1,"id":"3f2504e0-4f89-11d3-9a0c-0305e82c3301","time":"yesterday","db":"b","coll":"c","op":"insert","_id":1}"#, "ISO 8601"),
        (#"{"v":1,"id":"3f2504e0-4f89-11d3-9a0c-0305e82c3301","time":"2026-01-19T10:00:00Z","db":"","coll":"c","op":"insert","_id":1}"#, "no \"db\""),
        (#"{"v":1,"id":"3f2504e0-4f89-11d3-9a0c-0305e82c3301","time":"2026-01-19T10:00:00Z","db":"b","op":"insert","_id":1}"#, "no \"coll\""),
        (#"{"v":1,"id":"3f2504e0-4f89-11d3-9a0c-0305e82c3301","time":"2026-01-19T10:00:00Z","db":"b","coll":"c","op":"upsert","_id":1}"#, "insert, update, replace or delete"),
        (#"{"v":1,"id":"3f2504e0-4f89-11d3-9a0c-0305e82c3301","time":"2026-01-19T10:00:00Z","db":"b","coll":"c","op":"insert"}"#, "no \"_id\""),
        (#"{"v":1,"id":"3f2504e0-4f89-11d3-9a0c-0305e82c3301","time":"2026-01-19T10:00:00Z","db":"b","coll":"c","op":"insert","_id":[1]}"#, "array"),
    ])
    func rejectsABadLineWithAReason(_ line: String, _ reason: String) {
        #expect {
            try QueueEntry(line: Array(line.utf8))
        } throws: { error in
            (error as? QueueLineError)?.reason.contains(reason) == true
        }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: QueueLineError.self) { try QueueEntry(line: [0x7B, 0xFF, 0xFE, 0x7D]) }
    }
}

extension BSONValue {
    var decimal128: Decimal128? {
        if case .decimal128(let d) = self { return d }
        return nil
    }
}
