import Foundation
import Testing

@testable import SyncCore
import SyncTestSupport

@Suite(.enabled(if: TestServers.available, "needs SYNCCTL_TEST_LOCAL_URI and SYNCCTL_TEST_ATLAS_URI"))
struct VerifyTests {
    /// Equal data on both sides, then one of each kind of difference in Atlas.
    private func seedDifferences(_ pair: SyncPair) async throws {
        let documents: [BSONDocument] = (0..<200).map {
            ["_id": .int32(Int32($0)), "count": .int32(7), "name": .string("n\($0)"), "address": .document(["city": "Lyon", "zip": "69001"])]
        }
        try await pair.insert(documents, into: "orders", on: pair.local)
        try await pair.insert(documents, into: "orders", on: pair.atlas)
        try await pair.insert([["_id": 1, "ok": true]], into: "users", on: pair.local)
        try await pair.insert([["_id": 1, "ok": true]], into: "users", on: pair.atlas)
        try await pair.insert([["_id": 1]], into: "onlylocal", on: pair.local)
        func replace(_ id: Int32, _ document: BSONDocument) async throws {
            _ = try await pair.run(["update": "orders", "updates": .array([.document(["q": .document(["_id": .int32(id)]), "u": .document(document)])])], on: pair.atlas)
        }
        try await pair.atlas.deleteOne(["_id": .int32(10)], database: pair.database, collection: "orders")  // missing in Atlas
        try await pair.insert([["_id": .string("extra"), "count": 1]], into: "orders", on: pair.atlas)  // extra in Atlas
        try await replace(20, ["_id": .int32(20), "count": .int32(8), "name": "n20", "address": .document(["city": "Lyon", "zip": "69001"])])
        try await replace(30, ["_id": .int32(30), "count": .int32(7), "name": "n30", "address": .document(["city": "Nice", "zip": "69001"])])
        try await replace(40, ["_id": .int32(40), "count": .int64(7), "name": "n40", "address": .document(["city": "Lyon", "zip": "69001"])])
        try await replace(50, ["_id": .int32(50), "name": "n50", "count": .int32(7), "address": .document(["city": "Lyon", "zip": "69001"])])
    }

    /// A range with more candidates than fit in memory, scanned again after Atlas closed the
    /// connection midway: every candidate is counted once.
    @Test(.exclusiveFailPoints) func aRangeScannedAgainAfterAFailureCountsItsDifferencesOnce() async throws {
        let appName = "syncctl-verify-retry"
        try await withSyncPair("vf-retry", appName: appName) { pair in
            try await pair.insert((0..<10).map { ["_id": .int32(Int32($0))] }, into: "c", on: pair.local)
            try await pair.insert((0..<10).map { ["_id": .int32(Int32($0))] } + (0..<12_000).map { ["_id": .string("atlas-\($0)")] },
                                  into: "c", on: pair.atlas)
            // The Atlas cursor reads batches of 1,000 (find, then getMores): the 12th getMore,
            // for the last 10 documents, fails after 11,990 extra documents of the one range
            // were seen.
            try await failPoint(pair.atlas, appName: appName, commands: ["getMore"], mode: .document(["skip": 11, "times": 1]),
                                closeConnection: true)
            let report = try await pair.verify { $0.memoryIDs = 500 }.run()
            let collection = try #require(report.collections.first)
            #expect(collection.extraInAtlas == 12_000)
            #expect(collection.missingInAtlas == 0)
        }
    }

    @Test func deepVerifyFindsEverySeededDifferenceWithItsIDAndFields() async throws {
        try await withSyncPair("vf-seeded") { pair in
            try await seedDifferences(pair)
            let report = try await pair.verify { $0.show = 10 }.run()
            #expect(!report.consistent)
            let orders = try #require(report.collections.first { $0.name == "orders" })
            #expect(orders.status == .different)
            #expect(orders.missingInAtlas == 1 && orders.extraInAtlas == 1 && orders.different == 4)
            let byID = Dictionary(orders.samples.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            #expect(byID["10"]?.kind == .missingInAtlas)
            #expect(byID["\"extra\""]?.kind == .extraInAtlas)
            #expect(byID["20"]?.fields.map(\.path) == ["count"])
            #expect(byID["30"]?.fields.map(\.path) == ["address.city"])
            #expect(byID["40"]?.fields.map(\.path) == ["count (int32 → int64)"])
            #expect(byID["50"]?.fields.map(\.path) == ["(field order)"])
            #expect(byID["20"]?.fields.first?.local == nil, "values stay hidden without --show-values")
            #expect(report.collections.first { $0.name == "onlylocal" }?.status == .missingInAtlas)
            #expect(report.collections.first { $0.name == "users" }?.status == .consistent)

            let withValues = try await pair.verify { $0.showValues = true; $0.collections = ["orders"] }.run()
            let shown = withValues.collections.first?.samples.first { $0.id == "20" }?.fields.first
            #expect(shown?.local == "7" && shown?.atlas == "8")
        }
    }

    @Test func countModeMissesBalancedDifferencesThatDeepModeFinds() async throws {
        try await withSyncPair("vf-count") { pair in
            try await seedDifferences(pair)
            let counts = try await pair.verify { $0.mode = .count; $0.collections = ["orders"] }.run()
            // One missing plus one extra: equal counts, so the seeds' check passes.
            #expect(counts.collections.first?.status == .consistent)
            #expect(counts.collections.first?.localCount == 200 && counts.collections.first?.atlasCount == 200)
            let deep = try await pair.verify { $0.collections = ["orders"] }.run()
            #expect(deep.collections.first?.differences == 6)
        }
    }

    @Test func repairCopiesExactlyTheDifferencesAndFullSyncFixesThemToo() async throws {
        try await withSyncPair("vf-repair") { pair in
            try await seedDifferences(pair)
            let repaired = try await pair.verify { $0.repair = true }.run()
            #expect(repaired.consistent)
            let orders = try #require(repaired.collections.first { $0.name == "orders" })
            #expect(orders.repaired == 6 && orders.remaining == 0)
            #expect(repaired.collections.first { $0.name == "onlylocal" }?.status == .consistent)
            #expect(try await pair.documents("orders", on: pair.atlas) == pair.documents("orders", on: pair.local))
            #expect(try await pair.verify().run().consistent)
        }
        try await withSyncPair("vf-fullsync-fixes") { pair in
            try await seedDifferences(pair)
            let sync = try await pair.fullSync().run()
            #expect(sync.collections.first { $0.name == "orders" }?.written == 6)
            #expect(try await pair.verify().run().consistent)
        }
    }

    @Test func aWriterUpdatingDocumentsDuringVerifyProducesNoReport() async throws {
        try await withSyncPair("vf-inflight") { pair in
            let documents: [BSONDocument] = (0..<2_000).map { ["_id": .int32(Int32($0)), "v": 0] }
            try await pair.insert(documents, into: "c", on: pair.local)
            try await pair.insert(documents, into: "c", on: pair.atlas)
            // The application and its sync: each update lands locally, then in Atlas a moment later.
            let writer = Task {
                var version: Int32 = 0
                while !Task.isCancelled {
                    version += 1
                    let id = Int32.random(in: 0..<2_000)
                    let update: BSONDocument = ["update": "c", "updates": .array([.document(["q": .document(["_id": .int32(id)]), "u": .document(["$set": .document(["v": .int32(version)])])])])]
                    _ = try await pair.run(update, on: pair.local)
                    try await Task.sleep(for: .milliseconds(2))
                    _ = try await pair.run(update, on: pair.atlas)
                }
            }
            defer { writer.cancel() }
            try await Task.sleep(for: .milliseconds(100))
            let report = try await pair.verify { $0.chunkDocuments = 100; $0.recheckDelay = .milliseconds(200) }.run()
            writer.cancel()
            _ = await writer.result
            #expect(report.differences == 0)
            #expect(report.consistent)
        }
    }

    @Test func differencesBeyondShowAreCountedWhileTheirIDsSpillToDisk() async throws {
        try await withSyncPair("vf-many") { pair in
            try await pair.insert((0..<1_500).map { ["_id": .int32(Int32($0)), "v": 1] }, into: "c", on: pair.local)
            try await pair.insert((0..<1_500).map { ["_id": .int32(Int32($0)), "v": 2] }, into: "c", on: pair.atlas)
            let report = try await pair.verify { $0.show = 3; $0.memoryIDs = 100 }.run()
            #expect(report.collections.first?.different == 1_500)
            #expect(report.collections.first?.samples.count == 3)
        }
    }

    @Test func excludedAndOneSidedCollectionsAreListed() async throws {
        try await withSyncPair("vf-sides") { pair in
            try await pair.insert([["_id": 1]], into: "both", on: pair.local)
            try await pair.insert([["_id": 1]], into: "both", on: pair.atlas)
            try await pair.insert([["_id": 1]], into: "atlasonly", on: pair.atlas)
            try await pair.insert([["_id": 1]], into: "sessions", on: pair.local)
            let report = try await pair.verify { $0.excluded = ["sessions"] }.run()
            #expect(report.collections.map(\.name) == ["atlasonly", "both", "sessions"])
            #expect(report.collections.map(\.status) == [.onlyInAtlas, .consistent, .excluded])
            #expect(!report.consistent)
        }
    }
}
