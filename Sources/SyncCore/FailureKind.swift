/// What kind of failure an error is, so a front end can choose an exit code or a retry policy
/// without knowing the error's concrete type. The library never decides exit codes itself.
public enum FailureKind: String, Sendable, Codable, CaseIterable {
    /// A server could not be reached (refused, timed out, DNS, TLS).
    case unreachable
    /// The server rejected our credentials or the user lacks a permission.
    case authentication
    /// A setting or the command line describes something impossible.
    case configuration
    /// Input data is malformed (a corrupt queue line, a backup failing its checksums).
    case badInput
    /// A required input (a dotenv file, a backup directory) does not exist.
    case inputMissing
    /// Output could not be written.
    case cannotWrite
    /// Another run holds the lock.
    case locked
    /// A file's permissions are unsafe.
    case unsafePermissions
    /// The run was interrupted; state is saved.
    case interrupted
    /// Anything else: a bug or an unexpected server reply.
    case unexpected
}

/// An error that can say what kind of failure it is.
public protocol ClassifiedError: Error, Sendable, CustomStringConvertible {
    var kind: FailureKind { get }
}
