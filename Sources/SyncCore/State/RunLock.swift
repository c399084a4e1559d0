import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One run at a time: an exclusive `flock` on `<state>/locks/<name>.lock`. The kernel drops
/// the lock when the process dies, so a run killed with -9 never leaves a stale lock behind.
public final class RunLock: Sendable {
    public let path: String
    /// The open lock file; nil once released.
    private let descriptor: Mutex<Int32?>

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = Mutex(descriptor)
    }

    /// Takes the lock named `name`. Without `waitSeconds`, fails at once with kind `.locked`
    /// when another run holds it; with it, waits up to that long first.
    public static func acquire(_ name: String, in state: StateDirectory, waitSeconds: Double = 0) throws(StateError) -> RunLock {
        let directory = try state.prepare("locks")
        let path = "\(directory)/\(name).lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StateError.system("open lock file", path) }
        let deadline = Date().addingTimeInterval(waitSeconds)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                close(fd)
                throw StateError.system("lock", path)
            }
            if Date() >= deadline {
                let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
                close(fd)
                let who = holder.map { $0.isEmpty ? "" : " (\($0))" } ?? ""
                throw StateError(.locked, "another syncctl \(name) is running\(who): try again when it has finished")
            }
            usleep(50_000)
        }
        // Say who holds it, for the message another run prints.
        let note = "pid \(getpid()) since \(ISO8601DateFormatter().string(from: Date()))\n"
        ftruncate(fd, 0)
        _ = note.withCString { pwrite(fd, $0, strlen($0), 0) }
        return RunLock(path: path, descriptor: fd)
    }

    /// Releases the lock (closing the descriptor releases the flock).
    public func release() {
        descriptor.withLock { fd in
            if let open = fd { close(open) }
            fd = nil
        }
    }

    deinit { release() }
}
