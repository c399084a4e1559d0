/// A problem with syncctl's configuration or its inputs (the dotenv file, a setting, a connection
/// string), described on one line so a front end can print it as is.
///
/// Messages never contain a password: connection strings appear only in redacted form.
public struct ConfigError: ClassifiedError, Equatable {
    /// What kind of failure this is; decides the exit code in the front end.
    public let kind: FailureKind
    /// One line saying what is wrong and, where we can tell, how to fix it.
    public let message: String

    /// Creates an error; line breaks in `message` are folded into spaces because front ends print
    /// errors one per line and a stray line break would split a log record.
    public init(_ kind: FailureKind, _ message: String) {
        self.kind = kind
        self.message = String(message.map { $0.isNewline ? " " : $0 })
    }

    /// The message itself, so `"\(error)"` reads naturally.
    public var description: String { message }
}
