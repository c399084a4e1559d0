import ArgumentParser
import Foundation
import Logging
import SyncCore
import Synchronization

/// The sequence every subcommand follows (mongo-tools' main): parse → verbosity → console →
/// run → exit code. Errors become one line on stderr (or a JSON document with `--json`) and
/// the documented exit code.
enum CommandRunner {
    private static let bootstrapOnce = Mutex<Bool>(false)

    static func run(
        _ command: String, options: GlobalOptions, _ body: (Console) async throws -> ExitStatus
    ) async throws {
        bootstrapLogging(verbosity: options.verbosity)
        // Also for commands that never use the driver: it tunes malloc and sweeps the counter
        // segments killed processes left (see MongoRuntime).
        MongoRuntime.initialize()
        let console = Console(options: options)
        let status: ExitStatus
        do {
            status = try await body(console)
        } catch let error as any ClassifiedError {
            status = ExitStatus(error.kind)
            report(command: command, message: error.description, kind: error.kind.rawValue, status: status, console: console)
        } catch is CancellationError {
            status = .interrupted
            report(command: command, message: "interrupted", kind: FailureKind.interrupted.rawValue, status: status, console: console)
        } catch let error as CommandLineError {
            status = .usage
            report(command: command, message: error.description, kind: "usage", status: status, console: console)
        } catch let error as ValidationError {
            throw error
        } catch let error as ExitCode {
            throw error
        } catch {
            status = .failure
            report(command: command, message: "\(error)", kind: FailureKind.unexpected.rawValue, status: status, console: console)
        }
        console.finish(success: status == .success)
        if status != .success { throw status.exitCode }
    }

    private static func report(command: String, message: String, kind: String, status: ExitStatus, console: Console) {
        let oneLine = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        if console.json {
            console.printJSON(ErrorDocument(command: command, ok: false, error: .init(kind: kind, message: oneLine), exitCode: status.rawValue))
        }
        console.message("syncctl \(command): error: \(oneLine)")
    }

    private static func bootstrapLogging(verbosity: Int) {
        bootstrapOnce.withLock { done in
            guard !done else { return }
            done = true
            LoggingSystem.bootstrap { label in StderrLogHandler(label: label, verbosity: verbosity) }
        }
    }

    struct ErrorDocument: Encodable {
        let command: String
        let ok: Bool
        let error: Detail
        let exitCode: Int32
        struct Detail: Encodable {
            let kind: String
            let message: String
        }
    }
}

/// A command line that cannot be carried out as given, found only once the command runs (say,
/// it must ask but is not on a terminal): one line and exit 64, or a JSON error with `--json`.
/// (A `ValidationError` thrown from `run` would make ArgumentParser print the root command's
/// usage after it.)
struct CommandLineError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
