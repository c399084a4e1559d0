import Foundation
import Testing

@testable import SyncCore

struct VerifyDiffTests {
    private func paths(_ local: String, _ atlas: String, values: Bool = false) throws -> [FieldDifference] {
        DocumentDiff.differences(local: try BSONDocument(extendedJSON: local), atlas: try BSONDocument(extendedJSON: atlas), values: values)
    }

    @Test func changedNestedAndArrayFieldsAreNamedByTheirPath() throws {
        let found = try paths(#"{"_id": 1, "a": {"b": {"c": 1}}, "items": [{"qty": 1}, {"qty": 2}], "same": "x"}"#,
                              #"{"_id": 1, "a": {"b": {"c": 2}}, "items": [{"qty": 1}, {"qty": 3}], "same": "x"}"#)
        #expect(found.map(\.path) == ["a.b.c", "items.1.qty"])
    }

    @Test func aTypeChangeWithTheSameValueIsNamedWithBothTypes() throws {
        let found = try paths(#"{"_id": 1, "n": {"$numberInt": "5"}}"#, #"{"_id": 1, "n": {"$numberLong": "5"}}"#)
        #expect(found.map(\.path) == ["n (int32 → int64)"])
    }

    @Test func fieldOrderAloneIsReportedAsSuch() throws {
        #expect(try paths(#"{"_id": 1, "a": 1, "b": 2}"#, #"{"_id": 1, "b": 2, "a": 1}"#).map(\.path) == ["(field order)"])
        #expect(try paths(#"{"_id": 1, "s": {"a": 1, "b": 2}}"#, #"{"_id": 1, "s": {"b": 2, "a": 1}}"#).map(\.path) == ["s (field order)"])
    }

    @Test func fieldsOnOneSideOnlyAreListed() throws {
        let found = try paths(#"{"_id": 1, "gone": true}"#, #"{"_id": 1, "new": true}"#, values: true)
        #expect(found.map(\.path) == ["gone", "new"])
        #expect(found[0].local == "true" && found[0].atlas == "(absent)")
        #expect(found[1].local == "(absent)" && found[1].atlas == "true")
    }

    @Test func valuesAreShownOnlyWhenAskedFor() throws {
        #expect(try paths(#"{"_id": 1, "p": "secret"}"#, #"{"_id": 1, "p": "other"}"#).first?.local == nil)
        let shown = try paths(#"{"_id": 1, "p": "secret"}"#, #"{"_id": 1, "p": "other"}"#, values: true).first
        #expect(shown?.local == "\"secret\"" && shown?.atlas == "\"other\"")
    }

    @Test func nanAndNegativeZeroAreComparedByTheirBytes() throws {
        #expect(try paths(#"{"_id": 1, "x": {"$numberDouble": "NaN"}}"#, #"{"_id": 1, "x": {"$numberDouble": "NaN"}}"#).isEmpty)
        #expect(try paths(#"{"_id": 1, "x": {"$numberDouble": "0.0"}}"#, #"{"_id": 1, "x": {"$numberDouble": "-0.0"}}"#).map(\.path) == ["x"])
    }

    @Test func idQueueSpillsBeyondItsMemoryAndReadsBackInOrder() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("syncctl-q-\(UUID().uuidString)/ids").path
        let queue = IDQueue(spillPath: path, memoryLimit: 10)
        let ids = (0..<2_345).compactMap { DocumentID(of: ["_id": $0 % 2 == 0 ? .int32(Int32($0)) : .string("s\($0)")]) }
        for id in ids { try queue.append(id) }
        #expect(queue.count == ids.count)
        #expect(FileManager.default.fileExists(atPath: path))
        var read: [DocumentID] = []
        var largest = 0
        try await queue.forEachBatch(of: 100) { batch in
            read += batch
            largest = max(largest, batch.count)
        }
        #expect(read == ids)
        #expect(largest == 100)
        queue.close()
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
