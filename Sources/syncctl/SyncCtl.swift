import ArgumentParser

@main
struct SyncCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "syncctl",
        abstract: "Roll out and run a local MongoDB → MongoDB Atlas sync.",
        version: "0.1.0",
        subcommands: []
    )
}
