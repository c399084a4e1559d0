import Foundation
import Synchronization
import SyncTestSupport
import Testing

@testable import SyncCore

/// Replay against two servers: Atlas ends up holding local's documents byte for byte, however
/// the queue's entries are repeated, reordered, interleaved, torn or broken.
@Suite(.enabled(if: TestServers.available, "needs SYNCCTL_TEST_LOCAL_URI and SYNCCTL_TEST_ATLAS_URI"))
struct ReplayTests {
    static let ids: [BSONValue] = [
        .objectID(.generate()), .int32(3), .int64(2), .double(2.5), .string("b"), .string("order"), .document(["k": 1]),
        .binary(subtype: 0, data: [1, 2]), .binary(subtype: 4, data: Array(repeating: 7, count: 16)), .int64(9_007_199_254_740_993),
        .datetime(-2_208_988_800_000), .bool(false),
    ]

    @Test func convergesUnderDuplicatedReorderedAndInterleavedEntries() async throws {
        try await QueueTestHarness.with("converge") { h in
            // Two collections, every kind of _id, inserts, updates and deletes.
            for (n, id) in Self.ids.enumerated() {
                try await h.insert(["_id": id, "n": .int32(Int32(n)), "v": 0], into: "orders")
                try await h.insert(["_id": id, "n": .int32(Int32(n))], into: "with.dots and spaces")
            }
            for id in Self.ids.prefix(6) { try await h.update(id, set: ["v": 1, "note": "naïve"], in: "orders") }
            for id in Self.ids.suffix(3) { try await h.delete(id, from: "orders") }
            try await h.delete(Self.ids[0], from: "with.dots and spaces")
            try await h.update(Self.ids[1], set: ["v": 2], in: "orders")

            // The queue, duplicated and shuffled (reordered, the collections interleaved).
            let lines = try String(contentsOfFile: h.files.path, encoding: .utf8).split(separator: "\n")
            var shuffled = (lines + lines.shuffled().prefix(15)).shuffled()
            shuffled.append(lines[0])
            try (shuffled.joined(separator: "\n") + "\n").write(toFile: h.files.path, atomically: true, encoding: .utf8)

            let summary = try await h.worker { $0.batchSize = 7 }.drain()
            #expect(summary.totals.deadLettered == 0)
            #expect(summary.totals.applied == shuffled.count)
            try await h.expectMirrored("orders")
            try await h.expectMirrored("with.dots and spaces")

            // Replaying everything again from the start changes nothing.
            unlink(h.files.statePath)
            _ = try await h.worker().drain()
            try await h.expectMirrored("orders")
        }
    }

    @Test func everyBSONTypeReplaysByteExactly() async throws {
        try await QueueTestHarness.with("types") { h in
            let document = try BSONDocument(extendedJSON: BSONSamples.everyTypeJSON)
            try await h.insert(document, into: "types")
            try await h.insert(["_id": .string(String(repeating: "é", count: 100)), "big": .string(String(repeating: "x", count: 2 << 20))], into: "types")
            _ = try await h.worker().drain()
            let inAtlas = try await h.documents(h.atlas, "types")
            #expect(inAtlas.contains { $0.bytes == document.bytes })
            try await h.expectMirrored("types")
        }
    }

    @Test func anEntryWithAnotherNumericTypeOfTheIDIsNotTakenForADelete() async throws {
        try await QueueTestHarness.with("numeric") { h in
            // Local stores _id 1.0 (double); the application wrote the entry with Int32 1.
            try await h.local.insert([["_id": .double(1), "v": "local"]], database: h.database, collection: "c")
            try h.appender.append(.insert, database: h.database, collection: "c", id: .int32(1))
            _ = try await h.worker().drain()
            try await h.expectMirrored("c")
            #expect(try await h.atlas.countDocuments(database: h.database, collection: "c") == 1)
        }
    }

    @Test func aConcurrentAppenderLosesNothingWhileReplayConsumesAndRotates() async throws {
        try await QueueTestHarness.with("concurrent") { h in
            let applied = Atomic<Int>(0)
            let stop = StopSignal()
            let files = h.files
            let applier = h.applier
            // Rotate every few KiB and delete rotated files almost at once: the renames race
            // the appends on purpose.
            let options = h.options {
                $0.pollInterval = .milliseconds(5)
                $0.rotateBytes = 4_096
                $0.rotatedFileGrace = 0.05
                $0.batchSize = 25
                $0.transientAttemptLimit = nil
            }
            let consumer = Task {
                try await ReplayWorker(files: files, applier: applier, options: options) { applied.add($0.count, ordering: .relaxed) }
                    .follow(stop: stop)
            }
            var appended = 0
            for n in 0..<600 {
                try await h.insert(["_id": .int32(Int32(n)), "n": .int32(Int32(n))], into: "c")
                appended += 1
                if n % 4 == 0 {
                    try await h.update(.int32(Int32(n / 2)), set: ["touched": .int32(Int32(n))], in: "c")
                    appended += 1
                }
            }
            let deadline = ContinuousClock.now + .seconds(60)
            while applied.load(ordering: .relaxed) < appended && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            stop.stop()
            let summary = try await consumer.value
            #expect(summary.totals.applied == appended)
            #expect(summary.totals.deadLettered == 0)
            try await h.expectMirrored("c")
            // Rotation happened and replayed files were deleted: what is left is the last few KiB.
            _ = try await h.worker { $0.rotatedFileGrace = 0 }.drain()
            let onDisk = try h.files.segments().reduce(0) { $0 + $1.size }
            #expect(onDisk < 8_192, "\(onDisk) bytes of queue files left of \(appended) entries")
        }
    }

    @Test func tornLastLineWaitsForItsNewlineThenReplays() async throws {
        try await QueueTestHarness.with("torn") { h in
            try await h.insert(["_id": 1], into: "c")
            try await h.local.insert([["_id": 2]], database: h.database, collection: "c")
            let line = QueueEntry(database: h.database, collection: "c", operation: .insert, documentID: 2).jsonLine
            try Self.appendRaw(String(line.prefix(40)), to: h.files.path)
            var summary = try await h.worker().drain()
            #expect(summary.totals.applied == 1 && summary.totals.deadLettered == 0)
            #expect(try await h.atlas.countDocuments(database: h.database, collection: "c") == 1)
            try Self.appendRaw(String(line.dropFirst(40)) + "\n", to: h.files.path)
            summary = try await h.worker().drain()
            #expect(summary.totals.applied == 1)
            try await h.expectMirrored("c")
        }
    }

    @Test func corruptMiddleLineIsDeadLetteredAndTheRestApplied() async throws {
        try await QueueTestHarness.with("corrupt") { h in
            for n in 0..<5 { try await h.insert(["_id": .int32(Int32(n))], into: "c") }
            try Self.appendRaw("{\"v\":1,\"id\":\"x\", garbage\n", to: h.files.path)
            let offset = try FileManager.default.attributesOfItem(atPath: h.files.path)[.size] as! Int
            for n in 5..<10 { try await h.insert(["_id": .int32(Int32(n))], into: "c") }
            let summary = try await h.worker().drain()
            #expect(summary.totals.applied == 10)
            #expect(summary.totals.deadLettered == 1)
            try await h.expectMirrored("c")
            let letters = DeadLetterFile(files: h.files).read().letters
            #expect(letters.count == 1)
            #expect(letters.first?.reason.hasPrefix("line does not parse") == true)
            #expect(letters.first.map { Int($0.source.offset) + $0.line!.utf8.count + 1 } == offset)
        }
    }

    static func appendRaw(_ text: String, to path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }
}

/// Atlas failing on purpose (MongoDB's failCommand, limited to this test's application name):
/// transient errors are retried and lose nothing; a document Atlas keeps refusing is
/// dead-lettered after SYNC_MAX_RETRIES retries and can be put back. failCommand is one per
/// server and other suites set theirs too: a scenario whose failpoint was replaced before it
/// fired as planned is run again (a few times at most).
@Suite(.serialized, .enabled(if: TestServers.available, "needs SYNCCTL_TEST_LOCAL_URI and SYNCCTL_TEST_ATLAS_URI"))
struct ReplayFailCommandTests {
    /// Runs `scenario` until `firedAsPlanned` says the failpoint did what was asked.
    func untilFired(_ scenario: (Int) async throws -> ReplayRunSummary, firedAsPlanned: (ReplayRunSummary) -> Bool) async throws
        -> ReplayRunSummary
    {
        var summary = ReplayRunSummary()
        for round in 0..<5 {
            summary = try await scenario(round)
            if firedAsPlanned(summary) { return summary }
        }
        Issue.record("the failpoint never fired as planned (replaced by other tests every time?)")
        return summary
    }

    @Test(.exclusiveFailPoints) func transientErrorsAreRetriedAndNothingIsDeadLettered() async throws {
        try await QueueTestHarness.with("transient") { h in
            // ShutdownInProgress (91) is retryable.
            _ = try await untilFired({ round in
                try await h.insert(["_id": .int32(Int32(round))], into: "c")
                try await h.failPoint(.document(["times": 2]), data: ["failCommands": .array(["update"]), "errorCode": 91])
                let summary = try await h.worker { $0.maxRetries = 0 }.drain()
                #expect(summary.totals.applied == 1 && summary.totals.deadLettered == 0)
                return summary
            }, firedAsPlanned: { $0.totals.failed > 0 })
            try await h.expectMirrored("c")
            // The connection closing mid-command, too.
            _ = try await untilFired({ round in
                try await h.insert(["_id": .int32(Int32(100 + round))], into: "c")
                try await h.failPoint(.document(["times": 1]), data: ["failCommands": .array(["update"]), "closeConnection": true])
                let summary = try await h.worker { $0.maxRetries = 0 }.drain()
                #expect(summary.totals.applied == 1 && summary.totals.deadLettered == 0)
                return summary
            }, firedAsPlanned: { $0.totals.failed > 0 })
            try await h.expectMirrored("c")
        }
    }

    @Test(.exclusiveFailPoints) func nonTransientErrorIsRetriedMaxRetriesTimesThenDeadLettered() async throws {
        try await QueueTestHarness.with("nontransient") { h in
            try await h.insert(["_id": 1, "v": 0], into: "c")
            // BadValue (2) twice, SYNC_MAX_RETRIES=2: the third attempt goes through.
            let retried = try await untilFired({ round in
                try await h.update(1, set: ["v": .int32(Int32(round + 1))], in: "c")
                try await h.failPoint(.document(["times": 2]), data: ["failCommands": .array(["update"]), "errorCode": 2])
                return try await h.worker { $0.maxRetries = 2 }.drain()
            }, firedAsPlanned: { $0.totals.failed == 2 })
            #expect(retried.totals.applied == 1 && retried.totals.deadLettered == 0)

            // Three times: given up after the second retry, with the error.
            let given = try await untilFired({ round in
                try await h.update(1, set: ["v": .int32(Int32(100 + round))], in: "c")
                try await h.failPoint(.document(["times": 3]), data: ["failCommands": .array(["update"]), "errorCode": 2])
                return try await h.worker { $0.maxRetries = 2 }.drain()
            }, firedAsPlanned: { $0.totals.deadLettered == 1 })
            #expect(given.totals.applied == 0 && given.totals.failed == 3)
            let letters = DeadLetterFile(files: h.files).read().letters
            #expect(letters.count == 1)
            #expect(letters.first?.attempts == 3 && letters.first?.error?.code == 2)
            #expect(letters.first?.documentID == #"{ "$numberInt" : "1" }"#)

            // Put back and replayed once Atlas accepts it again.
            #expect(try DeadLetterFile(files: h.files).retry().requeued == 1)
            let summary = try await h.worker().drain()
            #expect(summary.totals.applied == 1)
            try await h.expectMirrored("c")
        }
    }
}
