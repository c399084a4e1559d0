import ArgumentParser

/// The root command only configures; each subcommand lives in Commands/.
@main
struct SyncCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "syncctl",
        abstract: "Roll out and run a local MongoDB → MongoDB Atlas sync.",
        discussion: """
            Settings come from a dotenv file (--env-file; default server/.env if present, else \
            .env), the process environment and flags: flag > environment > file > default. \
            `syncctl config` shows every effective value and where it came from.

            Exit status: 0 ok; 2 problems found; 1 unexpected failure; 64 bad command line; \
            65 bad input data; 66 input missing; 69 server unreachable; 73 cannot write output; \
            75 locked by another run; 77 authentication or unsafe permissions; 78 invalid \
            configuration; 130 interrupted (state saved, safe to run again).
            """,
        version: SyncCtl.version,
        subcommands: [Preflight.self, Config.self, Backup.self, Restore.self, FullSync.self, VerifyConsistency.self, Enable.self, Disable.self, Status.self, Checklist.self, Replay.self, PerfTest.self, ResilienceTest.self]
    )

    static let version = "0.1.0"
}
