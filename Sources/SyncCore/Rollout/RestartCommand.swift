import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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

    /// posix_spawn and waitpid rather than Foundation's `Process`, which on Linux notices the
    /// exit only once the output pipe closes — and a command that starts a daemon (`pm2`) may
    /// leave the pipe open in the daemon for good. After the command exits, its remaining output
    /// is read for at most half a second, never waiting for the daemon.
    private static func runBlocking(_ command: String) throws(StateError) -> Outcome {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw StateError.system("create a pipe for", "the restart command", kind: .unexpected) }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 2)
        posix_spawn_file_actions_addclose(&actions, readEnd)
        posix_spawn_file_actions_addclose(&actions, writeEnd)

        // The command starts with a clean signal state: the thread we run on may block signals
        // (driver and dispatch threads do), and a child inherits the mask — a restart script
        // that could not be stopped with SIGTERM would be a surprise.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let started = Date()
        var pid: pid_t = 0
        let arguments = ["/bin/sh", "-c", command]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, &attributes, &argv, environ)
        close(writeEnd)
        guard spawned == 0 else {
            close(readEnd)
            throw StateError(.unexpected, "cannot run the restart command with /bin/sh: \(String(cString: strerror(spawned)))")
        }

        var tail = TailBuffer(limit: tailLines)
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        var status: Int32 = 0
        var exited = false
        var drainDeadline = Date.distantFuture
        var open = true
        while open && Date() < drainDeadline {
            var poller = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 50) > 0 {
                let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
                if count > 0 {
                    tail.append(Data(buffer[0..<count]))
                } else if count == 0 || errno != EINTR {
                    open = false  // end of output
                }
            }
            if !exited, waitpid(pid, &status, WNOHANG) == pid {
                exited = true
                drainDeadline = Date().addingTimeInterval(0.5)
            }
        }
        close(readEnd)
        if !exited { waitpid(pid, &status, 0) }
        // The shell's convention: 128 + the signal number when a signal ended it.
        let termination = status & 0x7F
        let exitStatus = termination == 0 ? (status >> 8) & 0xFF : 128 + termination
        return Outcome(command: command, exitStatus: exitStatus, outputTail: tail.lines, seconds: Date().timeIntervalSince(started))
    }
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
