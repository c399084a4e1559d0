import ArgumentParser

/// Output options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    /// One JSON document on stdout instead of the human report.
    @Flag(name: .long, help: "Print one JSON document on stdout instead of the human report.")
    var json = false

    /// Nothing on stdout or stderr when the command succeeds (for cron, which mails output).
    @Flag(name: [.short, .long], help: "Print nothing when the command succeeds (cron mails any output).")
    var quiet = false

    /// More detail in the log on stderr; repeat for driver-level messages.
    @Flag(name: [.short, .customLong("verbose")], help: "Log more on stderr (-v: info, -vv: debug incl. the MongoDB driver).")
    var verbosity: Int

    /// Colour even when NO_COLOR is unset and stdout is a terminal can be turned off here.
    @Flag(name: .customLong("no-color"), help: "No colour (also when NO_COLOR is set or stdout is not a terminal).")
    var noColor = false
}
