import Foundation
import Logging
import Testing

@testable import SyncCore

/// A queue in a fresh temporary directory.
struct ScratchQueueDirectory {
    let directory: String
    let files: QueueFiles

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("syncctl-queue-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        files = QueueFiles(path: "\(directory)/sync-queue.jsonl", state: StateDirectory(path: "\(directory)/state"))
    }

    var appender: QueueAppender { QueueAppender(path: files.path, durable: false) }

    func entry(_ n: Int, collection: String = "orders", database: String = "bomba") -> QueueEntry {
        QueueEntry(database: database, collection: collection, operation: .update, documentID: .int32(Int32(n)))
    }

    /// Appends raw text as it is (no newline added).
    func appendRaw(_ text: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: files.path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    func consumer() throws -> QueueConsumer { try QueueConsumer(files: files, logger: Logger(label: "test")) }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

/// Reading and committing the queue: offsets by file identity, torn lines, rotation and
/// clean-up, dead letters, the status figures.
struct QueueFileTests {
    @Test func readsBatchesInOrderAndResumesFromTheCommittedOffset() throws {
        let queue = try ScratchQueueDirectory()
        defer { queue.remove() }
        try queue.appender.append((0..<25).map { queue.entry($0) })
        var consumer = try queue.consumer()
        let first = try consumer.readBatch(maxLines: 10, tornLineGrace: 60)
        #expect(first.items.count == 10 && first.isFull)
        #expect(try QueueEntry(line: first.items[0].line.bytes).documentID == .int32(0))
        try consumer.commit(first)
        // A new consumer (a new run) starts where the last commit ended.
        consumer = try queue.consumer()
        let second = try consumer.readBatch(maxLines: 100, tornLineGrace: 60)
        #expect(second.items.count == 15 && !second.isFull)
        #expect(try QueueEntry(line: second.items[0].line.bytes).documentID == .int32(10))
        // Not committed: read again.
        #expect(try queue.consumer().readBatch(maxLines: 100, tornLineGrace: 60).items.count == 15)
    }

    @Test func unfinishedLastLineIsLeftUntilItsNewlineArrives() throws {
        let queue = try ScratchQueueDirectory()
        defer { queue.remove() }
        try queue.appender.append([queue.entry(1)])
        let half = queue.entry(2).jsonLine
        try queue.appendRaw(String(half.prefix(30)))
        let consumer = try queue.consumer()
        let batch = try consumer.readBatch(maxLines: 100, tornLineGrace: 0)
        #expect(batch.items.count == 1)
        try consumer.commit(batch)
        #expect(try consumer.readBatch(maxLines: 100, tornLineGrace: 0).isEmpty)
        #expect(try QueueReport.load(files: queue.files, maxSize: 100, persisted: false).depth == 0)
        try queue.appendRaw(String(half.dropFirst(30)) + "\n")
        let rest = try consumer.readBatch(maxLines: 100, tornLineGrace: 0)
        #expect(rest.items.count == 1)
        #expect(try QueueEntry(line: rest.items[0].line.bytes).documentID == .int32(2))
    }

    @Test func rotationKeepsProgressAndAppendsAfterItGoToANewFile() throws {
        let queue = try ScratchQueueDirectory()
        defer { queue.remove() }
        try queue.appender.append((0..<5).map { queue.entry($0) })
        let consumer = try queue.consumer()
        try consumer.commit(try consumer.readBatch(maxLines: 2, tornLineGrace: 60))
        // Rotated before it is fully replayed: the rest is read from the rotated file.
        try consumer.maintain(rotateBytes: 1, grace: 60)
        #expect(!FileManager.default.fileExists(atPath: queue.files.path))
        #expect(try queue.files.segments().count == 1)
        // An appender that opened the file just before the rename writes into the rotated file.
        let rotated = try #require(try queue.files.segments().first)
        try QueueAppender(path: rotated.path, durable: false).append(queue.entry(5))
        try queue.appender.append([queue.entry(6), queue.entry(7)])
        let batch = try consumer.readBatch(maxLines: 100, tornLineGrace: 60)
        #expect(try batch.items.map { try QueueEntry(line: $0.line.bytes).documentID } == [2, 3, 4, 5, 6, 7].map { BSONValue.int32($0) })
        try consumer.commit(batch)
        // Fully replayed but written to recently: kept for the grace period, then deleted.
        try consumer.maintain(rotateBytes: 1 << 20, grace: 60)
        #expect(try queue.files.segments().count == 2)
        try consumer.maintain(rotateBytes: 1 << 20, grace: -1)
        #expect(try queue.files.segments().map(\.isActive) == [true])
        #expect(consumer.state.files.count == 1)
        #expect(try queue.consumer().readBatch(maxLines: 100, tornLineGrace: 60).isEmpty)
    }

    @Test func aReplacedQueueFileIsReadFromTheStart() throws {
        let queue = try ScratchQueueDirectory()
        defer { queue.remove() }
        try queue.appender.append((0..<3).map { queue.entry($0) })
        let consumer = try queue.consumer()
        try consumer.commit(try consumer.readBatch(maxLines: 100, tornLineGrace: 60))
        // Someone deletes the file and the application starts a new one (the inode may be reused).
        unlink(queue.files.path)
        try queue.appender.append((10..<14).map { queue.entry($0) })
        let batch = try queue.consumer().readBatch(maxLines: 100, tornLineGrace: 60)
        #expect(try batch.items.map { try QueueEntry(line: $0.line.bytes).documentID }.first == .int32(10))
        #expect(batch.items.count == 4)
    }

    @Test func tornLineInARotatedFileIsHandedOverOnceTheGracePeriodPassed() throws {
        let queue = try ScratchQueueDirectory()
        defer { queue.remove() }
        try queue.appender.append([queue.entry(1)])
        try queue.appendRaw("{\"v\":1,\"id\":\"tor")
        let rotatedPath = queue.files.rotatedPath(at: Date())
        rename(queue.files.path, rotatedPath)
        let consumer = try queue.consumer()
        #expect(try consumer.readBatch(maxLines: 100, tornLineGrace: 60).items.filter(\.torn).isEmpty)
        let batch = try consumer.readBatch(maxLines: 100, tornLineGrace: -1)
        #expect(batch.items.count == 2)
        #expect(batch.items.last?.torn == true)
        #expect(batch.progress.first?.offset == UInt64(try FileManager.default.attributesOfItem(atPath: rotatedPath)[.size] as! Int))
    }

    @Test func concurrentAppendersNeverInterleaveLines() async throws {
        let queue = try ScratchQueueDirectory()
        defer { queue.remove() }
        let appender = queue.appender
        let files = queue.files
        await withTaskGroup(of: Void.self) { group in
            for writer in 0..<4 {
                group.addTask {
                    for n in 0..<500 {
                        try? appender.append(QueueEntry(database: "bomba", collection: "w\(writer)", operation: .insert, documentID: .int32(Int32(n))))
                    }
                }
            }
        }
        var seen = 0
        let consumer = try QueueConsumer(files: files, logger: Logger(label: "test"))
        let batch = try consumer.readBatch(maxLines: 10_000, tornLineGrace: 60)
        for item in batch.items {
            _ = try QueueEntry(line: item.line.bytes)
            seen += 1
        }
        #expect(seen == 2_000)
    }

    @Test func deadLettersAreKeptOncePerLineAndRetriedWhenTheyParse() throws {
        let queue = try ScratchQueueDirectory()
        defer { queue.remove() }
        try queue.appender.append([queue.entry(1)])
        try queue.appendRaw("not json\n")
        let consumer = try queue.consumer()
        let batch = try consumer.readBatch(maxLines: 100, tornLineGrace: 60)
        let segment = batch.items[0].segment
        let file = DeadLetterFile(files: queue.files)
        let good = DeadLetter(line: batch.items[0].line, segment: segment, reason: "Atlas refused", entry: try QueueEntry(line: batch.items[0].line.bytes), attempts: 6)
        let bad = DeadLetter(line: batch.items[1].line, segment: segment, reason: "line does not parse", entry: nil)
        try file.append([good, bad])
        try file.append([good, bad])  // a replay killed before its commit reads the lines again
        #expect(file.read().letters.count == 2)
        #expect(file.read().letters[0].documentID == #"{ "$numberInt" : "1" }"#)
        #expect(file.read().letters[1].source.offset == batch.items[1].line.offset)

        try consumer.commit(batch)
        let result = try file.retry(durable: false)
        #expect(result == DeadLetterFile.RetryResult(requeued: 1, kept: 1))
        #expect(file.read().letters.map(\.reason) == ["line does not parse"])
        let again = try consumer.readBatch(maxLines: 100, tornLineGrace: 60)
        #expect(again.items.count == 1)
        #expect(try QueueEntry(line: again.items[0].line.bytes).id == (try QueueEntry(line: batch.items[0].line.bytes)).id)
    }

    @Test func reportCountsPendingEntriesLagAndTheLimit() throws {
        let queue = try ScratchQueueDirectory()
        defer { queue.remove() }
        let old = Date().addingTimeInterval(-90)
        try queue.appender.append([QueueEntry(time: old, database: "bomba", collection: "c", operation: .insert, documentID: 1)])
        try queue.appender.append((2..<6).map { queue.entry($0) })
        try queue.appendRaw("\n")  // blank lines carry nothing
        var report = try QueueReport.load(files: queue.files, maxSize: 5, persisted: true)
        #expect(report.depth == 5)
        #expect(report.lagSeconds >= 89 && report.lagSeconds < 120)
        #expect(report.overLimit)
        #expect(report.problems().contains { $0.contains("SYNC_QUEUE_MAX_SIZE=5") })
        #expect(report.watchLine.contains("queue 5/5"))
        let names = Set(report.metricSamples.map(\.name))
        #expect(names.isSuperset(of: [MetricNames.queueDepth, MetricNames.queueOldestAge, MetricNames.replayEntries]))

        let consumer = try queue.consumer()
        try consumer.commit(try consumer.readBatch(maxLines: 100, tornLineGrace: 60)) { state in
            state.totals.applied = 9
            state.totals.deadLettered = 1
            state.recordSyncTimes([100, 200, 300, 400])
            state.atlas.up = true
        }
        report = try QueueReport.load(files: queue.files, maxSize: 5, persisted: true)
        #expect(report.depth == 0 && report.lagSeconds == 0 && !report.overLimit)
        #expect(report.successRatio == 0.9)
        #expect(report.syncTime?.averageSeconds == 0.25)
        #expect(report.metricSamples.contains { $0.name == MetricNames.replaySyncSeconds && $0.labels == ["stat": "p95"] })
        #expect(report.metricSamples.contains { $0.name == MetricNames.atlasUp && $0.value == 1 })
    }

    @Test func corruptStateIsSetAsideAndReplayStartsOver() throws {
        let queue = try ScratchQueueDirectory()
        defer { queue.remove() }
        try queue.appender.append((0..<3).map { queue.entry($0) })
        let consumer = try queue.consumer()
        try consumer.commit(try consumer.readBatch(maxLines: 100, tornLineGrace: 60))
        try Data("{garbage".utf8).write(to: URL(fileURLWithPath: queue.files.statePath))
        // Status reads it and says so; it never renames anything.
        #expect(try QueueReport.load(files: queue.files, maxSize: 10, persisted: true).notes.contains { $0.contains("does not parse") })
        #expect(try queue.consumer().readBatch(maxLines: 100, tornLineGrace: 60).items.count == 3)
        let names = try FileManager.default.contentsOfDirectory(atPath: queue.directory)
        #expect(names.contains { $0.contains(".state.json.corrupt-") })
    }
}

struct LatencyRecorderTests {
    @Test func averageIsExactAndPercentilesComeFromTheHistogram() {
        var recorder = LatencyRecorder()
        for ms in 1...100 { recorder.record(milliseconds: Double(ms)) }
        let summary = recorder.summary!
        #expect(summary.count == 100)
        #expect(abs(summary.average - 50.5) < 0.001)
        #expect(abs(summary.p95 - 95) < 0.1)
        #expect(abs(summary.max - 100) < 0.1)
        #expect(LatencyRecorder().summary == nil)
    }
}

struct ProxyRouteTests {
    @Test func srvStringBecomesADirectLoopbackStringWithWhatSRVImplies() throws {
        let atlas = try ConnectionString("mongodb+srv://sync:p%40ss@cluster0.example.mongodb.net/bomba?retryWrites=true&w=majority&replicaSet=atlas-x")
        let uri = ProxyRoute.proxiedURI(atlas, proxyPort: 40123)
        #expect(uri == "mongodb://sync:p%40ss@127.0.0.1:40123/bomba?retryWrites=true&w=majority&tls=true&authSource=admin&tlsAllowInvalidHostnames=true&directConnection=true")
        #expect(throws: Never.self) { try ConnectionString(uri) }
    }

    @Test func plainStringKeepsItsOptionsAndNoTLS() throws {
        let local = try ConnectionString("mongodb://127.0.0.1:27017,127.0.0.1:27018/?appName=x&directConnection=false")
        #expect(ProxyRoute.proxiedURI(local, proxyPort: 5) == "mongodb://127.0.0.1:5/?appName=x&directConnection=true")
    }

    @Test func primaryFromHelloIsTheTarget() throws {
        let atlas = try ConnectionString("mongodb+srv://cluster0.example.mongodb.net")
        let route = try ProxyRoute(hello: ["primary": "shard-00-01.example.mongodb.net:27017", "me": "x:1"], connection: atlas)
        #expect(route.host == "shard-00-01.example.mongodb.net" && route.port == 27017)
        #expect(ProxyRoute.split("[::1]:27018")! == ("::1", 27018))
        #expect(throws: ConfigError.self) { try ProxyRoute(hello: [:], connection: atlas) }
    }
}
