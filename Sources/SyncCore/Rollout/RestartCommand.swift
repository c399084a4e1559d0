import Foundation
import Synchronization

/// The operator's own command to restart the application after a dotenv edit
/// (`--restart "pm2 restart bomba"`), run through `/bin/sh -c` so it may be any shell line.
public struct RestartCommand: Sendable {
    /// How the command ended.
    public struct Outcome: Sendable, Codable, Equatable {
        public let command: String
        /// The exit status, or 128 + the signal number when a signal ended it (as the shell says).
        public let exitStatus: Int32
        /// The last lines the command printed (stdout and stderr together).
        public let outputTail: [String]
        public let seconds: Double

        public var succeeded: Bool { exitStatus == 0 }
    }

    /// Lines of output kept for the report.
    public static let tailLines = 20

    public let command: String

    public init(_ command: String) {
        self.command = command
    }

    /// Runs the command to its end, on a thread of its own (it blocks).
    ///
    /// - Throws: `StateError` (`.unexpected`) when `/bin/sh` cannot be started at all.
    public func run() async throws(StateError) -> Outcome {
        let command = self.command
        let result: Result<Outcome, StateError> = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(returning: Result { () throws(StateError) in try Self.runBlocking(command) })
            }
        }
        return try result.get()
    }

    private static func runBlocking(_ command: String) throws(StateError) -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        let started = Date()
        do {
            try process.run()
        } catch {
            throw StateError(.unexpected, "cannot run the restart command with /bin/sh: \(error.localizedDescription)")
        }
        // Collect output while it runs, keeping only the tail, so a chatty command never fills
        // memory. A command that starts a daemon may leave the pipe open in the daemon: after the
        // command exits, wait briefly for the end of its output, never for the daemon.
        let tail = SharedTail(limit: tailLines)
        let ended = DispatchSemaphore(value: 0)
        let handle = pipe.fileHandleForReading
        handle.readabilityHandler = { handle in
            let chunk = handle.availableData
            if chunk.isEmpty {
                handle.readabilityHandler = nil
                ended.signal()
            } else {
                tail.append(chunk)
            }
        }
        process.waitUntilExit()
        if ended.wait(timeout: .now() + 0.5) == .timedOut { handle.readabilityHandler = nil }
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return Outcome(command: command, exitStatus: status, outputTail: tail.lines, seconds: Date().timeIntervalSince(started))
    }
}

/// A `TailBuffer` shared with the pipe's reading handler.
final class SharedTail: Sendable {
    private let buffer: Mutex<TailBuffer>
    init(limit: Int) { buffer = Mutex(TailBuffer(limit: limit)) }
    func append(_ data: Data) { buffer.withLock { $0.append(data) } }
    var lines: [String] { buffer.withLock { $0.lines } }
}

/// The last `limit` lines of a byte stream.
struct TailBuffer {
    let limit: Int
    private var complete: [String] = []
    private var partial = Data()

    init(limit: Int) {
        self.limit = limit
    }

    mutating func append(_ data: Data) {
        partial.append(data)
        while let newline = partial.firstIndex(of: UInt8(ascii: "\n")) {
            complete.append(String(decoding: partial[partial.startIndex..<newline], as: UTF8.self))
            partial = Data(partial[partial.index(after: newline)...])
            if complete.count > limit { complete.removeFirst(complete.count - limit) }
        }
        // A line without end is cut at 4 KiB so one endless line cannot grow without bound.
        if partial.count > 4096 { partial = Data(partial.suffix(4096)) }
    }

    var lines: [String] {
        var all = complete
        if !partial.isEmpty { all.append(String(decoding: partial, as: UTF8.self)) }
        return Array(all.suffix(limit)).map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
    }
}
