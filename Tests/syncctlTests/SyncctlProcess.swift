import Foundation
import SyncTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Runs the built `syncctl` binary as an operator would and captures what it prints.
struct SyncctlRun {
    let status: Int32
    let stdout: String
    let stderr: String

    var output: String { stdout + stderr }
}

enum SyncctlProcess {
    /// The binary SwiftPM built next to this test bundle.
    static let binary: URL = {
        if let explicit = ProcessInfo.processInfo.environment["SYNCCTL_BIN"] { return URL(fileURLWithPath: explicit) }
        let candidates = [
            Bundle.main.bundleURL.appendingPathComponent("syncctl"),
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("syncctl"),
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".build/debug/syncctl"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[2]
    }()

    /// Runs syncctl in `directory` with a clean environment (no inherited sync settings).
    static func run(_ arguments: [String], in directory: URL, environment: [String: String] = [:]) throws -> SyncctlRun {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": directory.path]
        env.merge(environment) { $1 }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes concurrently so neither fills up and blocks the child.
        let errData = Mutexed<Data>(Data())
        let reader = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        // Poll rather than waitUntilExit(), which spins a run loop that a Swift concurrency
        // thread never drains.
        while process.isRunning { usleep(2_000) }
        while !errData.isSet { usleep(1_000) }
        return SyncctlRun(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                          stderr: String(decoding: errData.value, as: UTF8.self))
    }

    /// A fresh temporary directory for one test.
    static func scratchDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("syncctl-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes a dotenv file with mode 0600.
    static func writeEnv(_ text: String, in directory: URL, name: String = ".env") throws {
        let url = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
    }
}

/// A value set once from another thread.
final class Mutexed<T>: @unchecked Sendable {
    // Invariant: `stored` and `done` change only under `lock`.
    private let lock = NSLock()
    private var stored: T
    private var done = false
    init(_ value: T) { stored = value }
    func set(_ value: T) { lock.withLock { stored = value; done = true } }
    var isSet: Bool { lock.withLock { done } }
    var value: T { lock.withLock { stored } }
}

/// syncctl running in the background, to be signalled mid-run (kill -9, Ctrl-C, SIGTERM) at
/// a moment its own progress picks.
final class BackgroundSyncctl {
    private let process = Process()
    private let errors = Pipe()

    init(_ arguments: [String], in directory: URL) throws {
        process.executableURL = SyncctlProcess.binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": directory.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// Sends `signal` the moment `condition` holds; false if the run ended first.
    func send(_ signal: Int32, when condition: @escaping @Sendable () -> Bool) async -> Bool {
        await SignalOnProgress.send(signal, to: process, when: condition)
    }

    /// Sends `signal` if given and the run is still going, then waits for its end. Status -N:
    /// killed by signal N before it could exit on its own.
    func terminate(signal: Int32? = nil) -> (status: Int32, stderr: String) {
        if let signal, process.isRunning { kill(process.processIdentifier, signal) }
        // stderr reaches its end when the process does; then waitUntilExit() returns at once.
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let status = process.terminationReason == .uncaughtSignal ? -process.terminationStatus : process.terminationStatus
        return (status, stderr)
    }
}
