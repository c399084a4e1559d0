import Foundation
import Testing
import SyncCore

@Suite struct DotenvFileLoadingTests {
    /// A fresh directory per test, removed afterwards.
    private func withTemporaryDirectory(_ body: (URL) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("syncctl-dotenv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try body(directory)
    }

    @Test func loadReadsTextExactlyAndRemembersThePath() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent(".env").path
            let text = "\u{FEFF}A=1\r\nB='two'\r\n"
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            let file = try DotenvFile.load(path: path)
            #expect(file.text == text)
            #expect(file.path == path)
            #expect(file.values == ["A": "1", "B": "two"])
        }
    }

    @Test func missingFileIsInputMissingAndNamesThePath() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("absent.env").path
            #expect {
                _ = try DotenvFile.load(path: path)
            } throws: { error in
                let error = error as? ConfigError
                return error?.kind == .inputMissing && error?.message.contains(path) == true
                    && error?.message.contains("does not exist") == true
            }
        }
    }

    @Test func directoryInsteadOfFileIsInputMissingWithReason() throws {
        try withTemporaryDirectory { directory in
            #expect {
                _ = try DotenvFile.load(path: directory.path)
            } throws: { error in
                (error as? ConfigError)?.kind == .inputMissing
                    && (error as? ConfigError)?.message.contains("directory") == true
            }
        }
    }

    @Test(.enabled(if: getuid() != 0, "root can read any file"))
    func unreadableFileIsInputMissingWithReason() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent(".env").path
            try Data("A=1\n".utf8).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: path)
            #expect {
                _ = try DotenvFile.load(path: path)
            } throws: { error in
                (error as? ConfigError)?.kind == .inputMissing
                    && (error as? ConfigError)?.message.contains("permission") == true
            }
        }
    }

    @Test func invalidUTF8IsBadInput() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent(".env").path
            try Data([0x41, 0x3D, 0xFF, 0xFE, 0x0A]).write(to: URL(fileURLWithPath: path))
            #expect {
                _ = try DotenvFile.load(path: path)
            } throws: { error in
                (error as? ConfigError)?.kind == .badInput && (error as? ConfigError)?.message.contains(path) == true
            }
        }
    }
}
