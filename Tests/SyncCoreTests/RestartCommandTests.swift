import Foundation
import Testing

@testable import SyncCore

struct RestartCommandTests {
    @Test func reportsExitStatusAndTheLastLines() async throws {
        let outcome = try await RestartCommand("for i in $(seq 1 30); do echo line $i; done; echo oops >&2; exit 3").run()
        #expect(outcome.exitStatus == 3)
        #expect(!outcome.succeeded)
        #expect(outcome.outputTail.count == RestartCommand.tailLines)
        #expect(outcome.outputTail.last == "oops")
        #expect(outcome.outputTail.first == "line 12")
    }

    @Test func succeedsQuietly() async throws {
        let outcome = try await RestartCommand("true").run()
        #expect(outcome.succeeded)
        #expect(outcome.outputTail.isEmpty)
    }

    /// `pm2 restart` may leave a daemon holding the output pipe: the report must not wait for it.
    @Test(.timeLimit(.minutes(1)))
    func doesNotWaitForADaemonThatKeepsTheOutputOpen() async throws {
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("syncctl-daemon-\(UUID().uuidString)").path
        let outcome = try await RestartCommand("echo started; sleep 300 & echo $! > \(pidFile)").run()
        #expect(outcome.succeeded)
        #expect(outcome.outputTail == ["started"])
        let pid = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        // The command ran with default signal handling: SIGTERM ends the daemon it left.
        #expect(kill(pid, SIGTERM) == 0)
        var gone = false
        for _ in 0..<200 where !gone {
            usleep(10_000)
            gone = kill(pid, 0) != 0 || Self.isZombie(pid)
        }
        if !gone { kill(pid, SIGKILL) }
        #expect(gone, "SIGTERM did not end the command's child: it inherited blocked signals")
        try? FileManager.default.removeItem(atPath: pidFile)
    }

    /// A process that ended but whose parent has not collected it yet.
    static func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return stat[stat.index(close, offsetBy: 2)...].hasPrefix("Z")
    }

    @Test func tailKeepsPartialLastLine() {
        var tail = TailBuffer(limit: 2)
        tail.append(Data("a\nb\r\nc\npartial".utf8))
        #expect(tail.lines == ["c", "partial"])
    }
}
