import ArgumentParser
import SyncCore

extension SyncCtl {
    /// `syncctl config`: every effective setting and where it came from.
    struct Config: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show every effective setting and its source (flag, env, file, default).",
            discussion: """
                Precedence: command-line flag > process environment > dotenv file > default. \
                Passwords in URIs are shown as ***. Exit status: 0 valid; 66 no .env file; \
                78 a setting is invalid (the message names the key, the value and what is allowed).
                """)

        @OptionGroup(title: "Settings") var settings: SettingsOptions
        @OptionGroup(title: "Output") var output: GlobalOptions

        func run() async throws {
            try await CommandRunner.run("config", options: output) { console in
                let loaded = try settings.load()
                let rows = loaded.effectiveValues()
                if console.json {
                    console.printJSON(Report(
                        envFile: loaded.envFile,
                        localDatabase: loaded.localDatabase,
                        atlasDatabase: loaded.atlasDatabase,
                        settings: rows.map { Row(key: $0.key.rawValue, value: $0.display, source: $0.source.rawValue) }))
                    return .success
                }
                console.print("settings file: \(loaded.envFile ?? "none (environment and defaults only)")")
                let width = rows.map(\.key.rawValue.count).max() ?? 0
                for row in rows {
                    let key = row.key.rawValue.padding(toLength: width, withPad: " ", startingAt: 0)
                    let value = row.display.isEmpty ? console.styled("(empty)", .dim) : row.display
                    console.print("\(key)  \(value)  \(console.styled("(\(row.source.rawValue))", .dim))")
                }
                console.print("databases: local '\(loaded.localDatabase)', atlas '\(loaded.atlasDatabase)'")
                return .success
            }
        }

        struct Row: Encodable {
            let key: String
            let value: String
            let source: String
        }

        struct Report: Encodable {
            var command = "config"
            var ok = true
            let envFile: String?
            let localDatabase: String
            let atlasDatabase: String
            let settings: [Row]
        }
    }
}
