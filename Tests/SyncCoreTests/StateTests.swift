import Foundation
import Testing

@testable import SyncCore

private func scratchState() throws -> StateDirectory {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("syncctl-state-\(UUID().uuidString)").path
    return StateDirectory(path: path)
}

@Test func atomicWriteReplacesContentWithTheRequestedMode() throws {
    let state = try scratchState()
    try state.prepare()
    let path = "\(state.path)/file"
    try AtomicFile.write(Data("one".utf8), to: path, mode: 0o600)
    try AtomicFile.write(Data("two".utf8), to: path, mode: 0o640)
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "two")
    let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
    #expect(mode == 0o640)
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: state.path).filter { $0.hasPrefix(".") }
    #expect(leftovers.isEmpty)
}

@Test func stateDirectoryIsPrivate() throws {
    let state = try scratchState()
    try state.prepare("locks")
    let mode = try FileManager.default.attributesOfItem(atPath: state.path)[.posixPermissions] as? Int
    #expect(mode == 0o700)
}

@Test func secondLockHolderIsToldToTryLater() throws {
    let state = try scratchState()
    let first = try RunLock.acquire("full-sync", in: state)
    let error = #expect(throws: StateError.self) { try RunLock.acquire("full-sync", in: state) }
    #expect(error?.kind == .locked)
    #expect(error?.message.contains("pid \(getpid())") == true)
    first.release()
    let again = try RunLock.acquire("full-sync", in: state)
    again.release()
    again.release()  // idempotent
}

@Test func journalAppendsLinesAndSkipsATornOne() throws {
    let state = try scratchState()
    let journal = Journal(state: state)
    try journal.append(JournalEntry(command: "enable", result: "ok", changes: ["SYNC_ENABLED": .init(old: "false", new: "true")]))
    // A crash mid-append leaves a partial line; readers skip it.
    let handle = try #require(FileHandle(forWritingAtPath: journal.path))
    handle.seekToEndOfFile()
    handle.write(Data("{\"time\": \"2026".utf8))
    try handle.close()
    try journal.append(JournalEntry(command: "disable", result: "ok", details: ["restart": "pm2 restart bomba", "exit": 0]))
    let entries = journal.entries()
    #expect(entries.map(\.command) == ["enable"])  // the torn line swallowed the newline-less tail
    #expect(journal.last("enable")?.changes?["SYNC_ENABLED"]?.new == "true")
}

@Test func journalEntriesRecordUserHostAndDetails() throws {
    let state = try scratchState()
    let journal = Journal(state: state)
    try journal.append(JournalEntry(command: "sign-off", result: "ok", details: ["phase": 1, "name": "Ana"]))
    let entry = try #require(journal.last("sign-off"))
    #expect(entry.details?["phase"] == .number(1))
    #expect(!entry.user.isEmpty && !entry.host.isEmpty)
}

@Test func failedRunKeepsTheLastSuccessTimestamp() throws {
    let state = try scratchState()
    let metrics = MetricsFile(state: state)
    let t0 = Date(timeIntervalSince1970: 1_700_000_000)
    try metrics.record(MetricsFile.jobSamples(job: "full-sync", started: t0, finished: t0 + 60, exitCode: 0, documentsWritten: 10))
    try metrics.record(MetricsFile.jobSamples(job: "full-sync", started: t0 + 86_400, finished: t0 + 86_460, exitCode: 69))
    let text = try String(contentsOfFile: metrics.path, encoding: .utf8)
    #expect(text.contains("syncctl_job_last_success_timestamp_seconds{job=\"full-sync\"} 1700000060"))
    #expect(text.contains("syncctl_job_exit_code{job=\"full-sync\"} 69"))
    #expect(text.contains("# TYPE syncctl_job_duration_seconds gauge"))
}

@Test func jobsMergeIntoOneMetricsFile() throws {
    let state = try scratchState()
    let metrics = MetricsFile(state: state)
    let now = Date()
    try metrics.record(MetricsFile.jobSamples(job: "full-sync", started: now, finished: now, exitCode: 0))
    try metrics.record(MetricsFile.jobSamples(job: "verify-consistency", started: now, finished: now, exitCode: 2))
    let text = try String(contentsOfFile: metrics.path, encoding: .utf8)
    #expect(text.contains("job=\"full-sync\"") && text.contains("job=\"verify-consistency\""))
}

@Test func pathPartsHandleOneCharacterAndRootPaths() {
    // Foundation's NSString path helpers crash on a one-character path (`--out b`); ours must not.
    #expect(PathParts.parent("b") == "." && PathParts.name("b") == "b")
    #expect(PathParts.parent("/b") == "/" && PathParts.parent("a/b/") == "a" && PathParts.name("a/b/") == "b")
}
