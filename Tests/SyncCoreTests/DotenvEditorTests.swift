import Foundation
import Testing

@testable import SyncCore

#if canImport(Glibc)
    import Glibc
#endif

/// The safe dotenv edit: only the target values change, and a crash, a concurrent edit or a
/// missing lock never leaves a mixed or half-written file.
struct DotenvEditorTests {
    struct Scratch {
        let directory: String
        let state: StateDirectory
        var envPath: String { "\(directory)/.env" }

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("syncctl-edit-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            state = StateDirectory(path: "\(directory)/state")
        }

        func write(_ text: String, mode: Int = 0o600, to path: String? = nil) throws {
            let path = path ?? envPath
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        }

        func read(_ path: String? = nil) throws -> String {
            try String(contentsOfFile: path ?? envPath, encoding: .utf8)
        }

        func mode(_ path: String? = nil) throws -> Int {
            try FileManager.default.attributesOfItem(atPath: path ?? envPath)[.posixPermissions] as? Int ?? -1
        }

        func files() throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        }
    }

    private func disable(_ scratch: Scratch, editor: DotenvEditor? = nil) throws -> DotenvEditResult {
        let editor = editor ?? DotenvEditor(state: scratch.state)
        return try editor.apply(try editor.plan(path: scratch.envPath, changes: SyncSwitch.disableChanges))
    }

    // MARK: Only the target bytes change

    @Test(arguments: [
        // comments, export prefix, inline comment
        ("# top\nexport SYNC_ENABLED=true # on\n\n# tail\n", "# top\nexport SYNC_ENABLED=false # on\n\n# tail\n"),
        // double, single and backtick quotes keep their style
        ("A=1\nSYNC_ENABLED=\"true\"\nB='x y'\n", "A=1\nSYNC_ENABLED=\"false\"\nB='x y'\n"),
        ("SYNC_ENABLED='true'\n", "SYNC_ENABLED='false'\n"),
        ("SYNC_ENABLED=`true`\n", "SYNC_ENABLED=`false`\n"),
        // CRLF line endings everywhere
        ("# c\r\nSYNC_ENABLED=true\r\nMONGODB_LOCAL_URI=mongodb://h/db\r\n", "# c\r\nSYNC_ENABLED=false\r\nMONGODB_LOCAL_URI=mongodb://h/db\r\n"),
        // duplicate keys: only the last (the one dotenv reads) changes
        ("SYNC_ENABLED=true\nX=1\nSYNC_ENABLED=yes\n", "SYNC_ENABLED=true\nX=1\nSYNC_ENABLED=false\n"),
        // no trailing newline, key present
        ("X=1\nSYNC_ENABLED=true", "X=1\nSYNC_ENABLED=false"),
        // no trailing newline, key missing: appended on a line of its own
        ("X=1", "X=1\nSYNC_ENABLED=false\n"),
        // CRLF file, key missing: appended with CRLF
        ("X=1\r\nY=2\r\n", "X=1\r\nY=2\r\nSYNC_ENABLED=false\r\n"),
        // KEY: value form and surrounding spaces
        ("SYNC_ENABLED: true\n  Y = 2  \n", "SYNC_ENABLED: false\n  Y = 2  \n"),
    ])
    func disableChangesOnlyTheValue(before: String, after: String) throws {
        let scratch = try Scratch()
        try scratch.write(before)
        let result = try disable(scratch)
        #expect(result.written)
        #expect(try scratch.read() == after)
        #expect(DotenvFile(text: try scratch.read()).values["SYNC_ENABLED"] == "false")
    }

    @Test func enableWithExclusionsQuotesNothingAndKeepsEverythingElse() throws {
        let scratch = try Scratch()
        let original = "# Sync\r\nexport SYNC_ENABLED=false   # off\r\nMONGODB_ATLAS_URI=\"mongodb+srv://u:p%40ss@c.example.net/bomba?w=majority\"\r\nSYNC_EXCLUDED_COLLECTIONS=\r\nSYNC_BATCH_SIZE=100"
        try scratch.write(original)
        let editor = DotenvEditor(state: scratch.state)
        let plan = try editor.plan(path: scratch.envPath) { SyncSwitch.enableChanges(.exclude(["bills", "orders"]), in: $0) }
        #expect(plan.changes["SYNC_ENABLED"] == JournalEntry.Change(old: "false", new: "true"))
        #expect(plan.changes["SYNC_EXCLUDED_COLLECTIONS"] == JournalEntry.Change(old: "", new: "bills,orders"))
        _ = try editor.apply(plan)
        #expect(try scratch.read() == original
            .replacingOccurrences(of: "SYNC_ENABLED=false", with: "SYNC_ENABLED=true")
            .replacingOccurrences(of: "SYNC_EXCLUDED_COLLECTIONS=\r\n", with: "SYNC_EXCLUDED_COLLECTIONS=bills,orders\r\n"))
    }

    @Test func includeAllDoesNotAddAMissingExclusionKey() throws {
        let scratch = try Scratch()
        try scratch.write("SYNC_ENABLED=false\n")
        let editor = DotenvEditor(state: scratch.state)
        _ = try editor.apply(try editor.plan(path: scratch.envPath) { SyncSwitch.enableChanges(.includeAll, in: $0) })
        #expect(try scratch.read() == "SYNC_ENABLED=true\n")
    }

    @Test(arguments: [0o600, 0o640, 0o644])
    func modeIsKept(mode: Int) throws {
        let scratch = try Scratch()
        try scratch.write("SYNC_ENABLED=true\n", mode: mode)
        _ = try disable(scratch)
        #expect(try scratch.mode() == mode)
    }

    @Test func symlinkIsEditedAtItsTargetAndStaysALink() throws {
        let scratch = try Scratch()
        let real = "\(scratch.directory)/config/app.env"
        try FileManager.default.createDirectory(atPath: "\(scratch.directory)/config", withIntermediateDirectories: true)
        try scratch.write("SYNC_ENABLED=true\n", mode: 0o600, to: real)
        try FileManager.default.createSymbolicLink(atPath: scratch.envPath, withDestinationPath: "config/app.env")
        let editor = DotenvEditor(state: scratch.state)
        let plan = try editor.plan(path: scratch.envPath, changes: SyncSwitch.disableChanges)
        #expect(plan.target.hasSuffix("/config/app.env"))
        _ = try editor.apply(plan)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: scratch.envPath) == "config/app.env")
        #expect(try scratch.read(real) == "SYNC_ENABLED=false\n")
        #expect(try scratch.mode(real) == 0o600)
        // No temporary file left beside the target.
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(scratch.directory)/config") == ["app.env"])
    }

    @Test func danglingSymlinkIsReportedAsMissing() throws {
        let scratch = try Scratch()
        try FileManager.default.createSymbolicLink(atPath: scratch.envPath, withDestinationPath: "nowhere.env")
        let error = #expect(throws: ConfigError.self) { try DotenvEditor(state: scratch.state).plan(path: scratch.envPath, changes: []) }
        #expect(error?.kind == .inputMissing)
        #expect(error?.message.contains("symlink") == true)
    }

    // MARK: Backups

    @Test func backupHoldsTheOldBytesWithMode0600() throws {
        let scratch = try Scratch()
        let original = "SYNC_ENABLED=true\nMONGODB_ATLAS_URI=mongodb://u:secret@h/db\n"
        try scratch.write(original, mode: 0o644)
        let result = try disable(scratch)
        let backup = try #require(result.backupPath)
        #expect(backup.hasPrefix("\(scratch.state.path)/env-backups/env."))
        #expect(try scratch.read(backup) == original)
        #expect(try scratch.mode(backup) == 0o600)
    }

    @Test func onlyTheNewestBackupsAreKept() throws {
        let scratch = try Scratch()
        try scratch.write("SYNC_ENABLED=true\n")
        let editor = DotenvEditor(state: scratch.state)
        for index in 0..<(DotenvEditor.backupsKept + 3) {
            let value = index % 2 == 0 ? "false" : "true"
            _ = try editor.apply(try editor.plan(path: scratch.envPath, changes: [("SYNC_ENABLED", value)]))
        }
        let backups = try FileManager.default.contentsOfDirectory(atPath: editor.backupDirectory)
        #expect(backups.count == DotenvEditor.backupsKept)
    }

    @Test func noOpWritesNothingAndKeepsNoBackup() throws {
        let scratch = try Scratch()
        try scratch.write("SYNC_ENABLED=false\n")
        let before = try FileManager.default.attributesOfItem(atPath: scratch.envPath)[.modificationDate] as? Date
        let result = try disable(scratch)
        #expect(!result.written)
        #expect(result.backupPath == nil)
        #expect(try FileManager.default.attributesOfItem(atPath: scratch.envPath)[.modificationDate] as? Date == before)
        #expect(!FileManager.default.fileExists(atPath: "\(scratch.state.path)/env-backups"))
    }

    // MARK: Crashes and concurrent edits

    struct SimulatedCrash: Error {}

    @Test func crashBetweenTemporaryFileAndRenameLeavesTheOldFile() throws {
        let scratch = try Scratch()
        let original = "# keep\nSYNC_ENABLED=true\n"
        try scratch.write(original, mode: 0o640)
        let editor = DotenvEditor(state: scratch.state)
        let plan = try editor.plan(path: scratch.envPath, changes: SyncSwitch.disableChanges)
        var sawTemporary = false
        #expect(throws: SimulatedCrash.self) {
            try editor.apply(plan) { step in
                guard case .temporaryFileWritten(let path) = step else { return }
                // At this point the new text is complete on disk, with the original's mode…
                sawTemporary = try scratch.read(path) == "# keep\nSYNC_ENABLED=false\n" && scratch.mode(path) == 0o640
                // …and the file itself is still the old one.
                #expect(try scratch.read() == original)
                throw SimulatedCrash()
            }
        }
        #expect(sawTemporary)
        #expect(try scratch.read() == original)
        #expect(try scratch.files() == [".env", "state"])
        // Run again: it finishes.
        _ = try editor.apply(try editor.plan(path: scratch.envPath, changes: SyncSwitch.disableChanges))
        #expect(try scratch.read() == "# keep\nSYNC_ENABLED=false\n")
    }

    @Test func temporaryFileLeftByAKilledRunIsRemovedByTheNextEdit() throws {
        let scratch = try Scratch()
        try scratch.write("SYNC_ENABLED=true\n")
        // What kill -9 after the temporary file was written leaves behind.
        try scratch.write("SYNC_ENABLED=half", to: "\(scratch.directory)/..env.syncctl-99999.tmp")
        _ = try disable(scratch)
        #expect(try scratch.files() == [".env", "state"])
        #expect(try scratch.read() == "SYNC_ENABLED=false\n")
    }

    @Test func fileChangedAfterThePlanIsNotOverwritten() throws {
        let scratch = try Scratch()
        try scratch.write("SYNC_ENABLED=true\n")
        let editor = DotenvEditor(state: scratch.state)
        let plan = try editor.plan(path: scratch.envPath, changes: SyncSwitch.disableChanges)
        try scratch.write("SYNC_ENABLED=true\nADDED_BY_HAND=1\n")
        let error = #expect(throws: StateError.self) { try editor.apply(plan) }
        #expect(error?.kind == .locked)
        #expect(error?.message.contains("changed") == true)
        #expect(try scratch.read() == "SYNC_ENABLED=true\nADDED_BY_HAND=1\n")
    }

    @Test func fileReplacedWhileTheTemporaryFileIsWrittenIsNotOverwritten() throws {
        let scratch = try Scratch()
        try scratch.write("SYNC_ENABLED=true\n")
        let editor = DotenvEditor(state: scratch.state)
        let plan = try editor.plan(path: scratch.envPath, changes: SyncSwitch.disableChanges)
        #expect(throws: StateError.self) {
            try editor.apply(plan) { _ in
                // An editor saves the file (a new inode, as most editors write) at the worst moment.
                try scratch.write("SYNC_ENABLED=true\n#x\n", to: "\(scratch.directory)/other")
                _ = rename("\(scratch.directory)/other", scratch.envPath)
            }
        }
        #expect(try scratch.read() == "SYNC_ENABLED=true\n#x\n")
        #expect(try scratch.files() == [".env", "state"])
    }

    @Test func editWaitsForTheLockThenGivesUpWithLocked() throws {
        let scratch = try Scratch()
        try scratch.write("SYNC_ENABLED=true\n")
        let held = try RunLock.acquire(DotenvEditor.lockName, in: scratch.state)
        defer { held.release() }
        for policy in [DotenvEditor.Policy.normal, .emergency] {
            let editor = DotenvEditor(state: scratch.state, policy: policy, lockWaitSeconds: 0.2)
            let error = #expect(throws: StateError.self) { try editor.apply(try editor.plan(path: scratch.envPath, changes: SyncSwitch.disableChanges)) }
            #expect(error?.kind == .locked)
        }
        #expect(try scratch.read() == "SYNC_ENABLED=true\n")
    }

    @Test func emergencyEditGoesAheadWhenTheStateDirectoryCannotBeWritten() throws {
        let scratch = try Scratch()
        try scratch.write("SYNC_ENABLED=true\n")
        // A state "directory" that is a file: no lock, no backup can be made there.
        try scratch.write("not a directory", to: "\(scratch.directory)/blocked")
        let state = StateDirectory(path: "\(scratch.directory)/blocked/state")
        let strict = DotenvEditor(state: state)
        #expect(throws: StateError.self) { try strict.apply(try strict.plan(path: scratch.envPath, changes: SyncSwitch.disableChanges)) }
        #expect(try scratch.read() == "SYNC_ENABLED=true\n")

        let emergency = DotenvEditor(state: state, policy: .emergency)
        let result = try emergency.apply(try emergency.plan(path: scratch.envPath, changes: SyncSwitch.disableChanges))
        #expect(result.written)
        #expect(result.backupPath == nil)
        #expect(result.warnings.count == 2)
        #expect(try scratch.read() == "SYNC_ENABLED=false\n")
    }

    @Test func concurrentEditsEndInOneOfTheRequestedFiles() async throws {
        let scratch = try Scratch()
        let original = "# c\nSYNC_ENABLED=false\nSYNC_EXCLUDED_COLLECTIONS=\n"
        try scratch.write(original)
        let names = (0..<8).map { "c\($0)" }
        let outcomes = await withTaskGroup(of: Result<String, any Error>.self) { group in
            for name in names {
                group.addTask {
                    do {
                        let editor = DotenvEditor(state: scratch.state, lockWaitSeconds: 5)
                        let plan = try editor.plan(path: scratch.envPath) { SyncSwitch.enableChanges(.exclude([name]), in: $0) }
                        _ = try editor.apply(plan)
                        return .success(name)
                    } catch {
                        return .failure(error)
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        var winners: [String] = []
        for outcome in outcomes {
            switch outcome {
            case .success(let name): winners.append(name)
            case .failure(let error): #expect((error as? StateError)?.kind == .locked, "\(error)")
            }
        }
        #expect(!winners.isEmpty)
        let final = try scratch.read()
        let value = DotenvFile(text: final).values["SYNC_EXCLUDED_COLLECTIONS"] ?? ""
        #expect(winners.contains(value))
        #expect(final == "# c\nSYNC_ENABLED=true\nSYNC_EXCLUDED_COLLECTIONS=\(value)\n")
        #expect(try scratch.files() == [".env", "state"])
    }

    // MARK: The diff

    @Test func diffShowsTheChangeAndHidesPasswordsInContext() throws {
        let scratch = try Scratch()
        try scratch.write("MONGODB_ATLAS_URI=mongodb+srv://sync:hunter2@c.example.net/bomba\nSYNC_ENABLED=true\n")
        let plan = try DotenvEditor(state: scratch.state).plan(path: scratch.envPath, changes: SyncSwitch.disableChanges)
        let diff = plan.diff()
        #expect(diff.contains("-SYNC_ENABLED=true\n+SYNC_ENABLED=false\n"))
        #expect(diff.contains(" MONGODB_ATLAS_URI=mongodb+srv://sync:***@c.example.net/bomba\n"))
        #expect(!diff.contains("hunter2"))
    }
}
