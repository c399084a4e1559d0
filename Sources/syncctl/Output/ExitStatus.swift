import ArgumentParser
import SyncCore

/// The documented exit codes (README, "Exit codes"); sysexits-style where one fits.
enum ExitStatus: Int32 {
    case success = 0
    case failure = 1
    case problemsFound = 2
    case usage = 64
    case dataError = 65
    case noInput = 66
    case unavailable = 69
    case cannotCreate = 73
    case tempFailure = 75
    case noPermission = 77
    case configuration = 78
    case interrupted = 130

    init(_ kind: FailureKind) {
        self =
            switch kind {
            case .unreachable: .unavailable
            case .authentication, .unsafePermissions: .noPermission
            case .configuration: .configuration
            case .badInput: .dataError
            case .inputMissing: .noInput
            case .cannotWrite: .cannotCreate
            case .locked: .tempFailure
            case .interrupted: .interrupted
            case .unexpected: .failure
            }
    }

    var exitCode: ExitCode { ExitCode(rawValue) }
}
