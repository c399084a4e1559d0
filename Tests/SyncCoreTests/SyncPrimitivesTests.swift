import Foundation
import Testing

@testable import SyncCore
import SyncTestSupport

struct SyncPrimitivesTests {
    @Test func idFilterCopiesTheIDValueByteForByte() throws {
        // -0.0 and NaN compare equal/unequal oddly as numbers; their bytes must survive.
        for json in [#"{"_id": {"$numberDouble": "-0.0"}, "a": 1}"#, #"{"a": 1, "_id": {"$numberDouble": "NaN"}}"#,
                     #"{"_id": {"k": [1, {"$numberLong": "2"}]}}"#] {
            let document = try BSONDocument(extendedJSON: json)
            let id = try #require(DocumentID(of: document))
            #expect(id.filter.keys == ["_id"])
            #expect(id.filter.rawValue(of: "_id")?.bytes == document.rawValue(of: "_id")?.bytes)
            #expect(id.filter.rawValue(of: "_id")?.type == document.rawValue(of: "_id")?.type)
        }
        #expect(DocumentID(of: ["a": 1]) == nil)
    }

    @Test func idsAreTheSameKeyOnlyWhenTheirBytesAre() throws {
        let int32 = try #require(DocumentID(of: ["_id": .int32(1)]))
        let double = try #require(DocumentID(of: ["_id": .double(1)]))
        #expect(int32 != double)
        #expect(int32 == DocumentID(of: ["_id": .int32(1), "other": "field"]))
        #expect(int32.description == "1")
        #expect(DocumentID(of: ["_id": "a b"])?.description == "\"a b\"")
    }

    @Test func inFilterListsEveryIDExactly() throws {
        let ids = [BSONValue.int32(1), .double(-0.0), .string("x"), .document(["a": 1])].compactMap { DocumentID(of: ["_id": $0]) }
        let filter = DocumentID.inFilter(ids)
        let values = try #require(filter["_id"]?.documentValue?["$in"]?.arrayValue)
        #expect(values.count == 4)
        #expect(values[2] == .string("x"))
        #expect(values[3] == .document(["a": 1]))
        if case .double(let zero) = values[1] { #expect(zero == 0 && zero.sign == .minus) } else { Issue.record("not a double") }
    }

    @Test func rangesUseIndexBoundsNotTypeBracketedOperators() throws {
        let lower = try #require(DocumentID(of: ["_id": 5]))
        let upper = try #require(DocumentID(of: ["_id": "m"]))
        let options = IDRange(lower: lower, upper: upper).findOptions(batchSize: 10)
        #expect(options.hint == ["_id": 1])
        #expect(options.min == lower.filter)
        #expect(options.max == upper.filter)
        #expect(options.sort == ["_id": 1])
        #expect(options.filter == .empty)
        let all = IDRange.all.findOptions()
        #expect(all.hint == nil && all.min == nil && all.max == nil)
        #expect(IDRange(upper: upper).findOptions().min == nil)
    }

    @Test func selectionSkipsSystemCollectionsAndKeepsExcludedOnesListed() throws {
        let local = ["a", "b", "system.views", "sessions"].map { CollectionInfo(name: $0) }
        let atlas = ["b", "c"].map { CollectionInfo(name: $0) }
        let all = try CollectionSelection.select(local: local, atlas: atlas, excluded: ["sessions", "nothere"])
        #expect(all.map(\.name) == ["a", "b", "c", "sessions"])
        #expect(all.map(\.presence) == [.localOnly, .both, .atlasOnly, .localOnly])
        #expect(all.map(\.excluded) == [false, false, false, true])
        let some = try CollectionSelection.select(local: local, atlas: atlas, excluded: ["sessions"], only: ["sessions", "b"])
        #expect(some.map(\.name) == ["b", "sessions"])
        #expect(some.last?.excluded == true)
    }

    @Test func selectingAnUnknownCollectionNamesItAndTheFix() {
        #expect {
            try CollectionSelection.select(local: [CollectionInfo(name: "orders")], atlas: [], excluded: [], only: ["ordres"],
                                           localDatabase: "bomba", atlasDatabase: "bomba")
        } throws: { error in
            let sync = error as? ConfigError
            return sync?.kind == .configuration && sync?.message.contains("'ordres'") == true
                && sync?.message.contains("check the name (collections: orders)") == true
        }
    }

    @Test func bulkLimitsTreatTheBatchSizeAsAFloor() {
        var options = FullSyncOptions()
        options.batchSize = 100
        #expect(options.bulkLimits.maxCount == 1_000)
        options.batchSize = 5_000
        #expect(options.bulkLimits.maxCount == 5_000)
    }

    @Test func retryPausesGrowAndStopAtTheMaximum() {
        let retry = TransientRetry(maxRetries: 5)
        #expect(retry.backoff.delay(afterFailures: 1) == .milliseconds(500))
        #expect(retry.backoff.delay(afterFailures: 2) == .seconds(1))
        #expect(retry.backoff.delay(afterFailures: 10) == .seconds(10))
        #expect(TransientRetry.isTransient(MongoError(kind: .unreachable, reason: .refused, message: "x")))
        #expect(!TransientRetry.isTransient(MongoError(kind: .unexpected, reason: .command, message: "x", code: 11000)))
        #expect(!TransientRetry.isTransient(CancellationError()))
    }

    @Test func idOrderFollowsBSONComparisonOrderForTheTypesItKnows() throws {
        // In MongoDB's order; equal neighbours are marked by the same group number.
        let ordered: [(BSONValue, Int)] = [
            (.minKey, 0), (.null, 1), (.double(-.infinity), 2), (.int64(Int64.min), 3), (.int32(-5), 4), (.double(-4.5), 5),
            (.int32(0), 6), (.double(-0.0), 6), (.int64(0), 6), (.double(2.5), 7), (.int64(9_007_199_254_740_993), 8),
            (.double(9_007_199_254_740_994), 9), (.double(.infinity), 10), (.string(""), 11), (.symbol("a"), 12), (.string("a"), 12),
            (.string("ab"), 13), (.string("b"), 14), (.string("é"), 15), (.binary(subtype: 5, data: [9]), 16),
            (.binary(subtype: 0, data: [1, 2]), 17), (.binary(subtype: 4, data: [1, 2]), 18),
            (.objectID(ObjectID(hex: "000000000000000000000001")!), 19), (.objectID(ObjectID(hex: "ff0000000000000000000000")!), 20),
            (.bool(false), 21), (.bool(true), 22), (.datetime(-1), 23), (.datetime(5), 24),
            (.timestamp(seconds: 1, increment: 9), 25), (.timestamp(seconds: 2, increment: 0), 26), (.maxKey, 27),
        ]
        let ids = try ordered.map { try #require(DocumentID(of: ["_id": $0.0])) }
        for i in ids.indices {
            for j in ids.indices {
                let expected = ordered[i].1 < ordered[j].1 ? -1 : ordered[i].1 > ordered[j].1 ? 1 : 0
                #expect(IDOrder.compare(ids[i], ids[j]) == expected, "\(ordered[i].0) vs \(ordered[j].0)")
            }
        }
    }

    @Test func idOrderDeclinesWhatItCannotOrderExactly() throws {
        let int = try #require(DocumentID(of: ["_id": 1]))
        for value in [BSONValue.decimal128(Decimal128("1")!), .double(.nan), .document(["a": 1]), .regex(pattern: "a", options: "")] {
            let id = try #require(DocumentID(of: ["_id": value]))
            #expect(IDOrder.compare(id, int) == nil, "\(value)")
            #expect(IDOrder.compare(int, id) == nil, "\(value)")
        }
    }
}
