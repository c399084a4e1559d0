/// A failure reading or writing syncctl's own files (state directory, journal, locks,
/// metrics, dotenv edits).
public struct StateError: ClassifiedError {
    public let kind: FailureKind
    public let message: String
    public var description: String { message }

    public init(_ kind: FailureKind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The error for a failed system call on `path`, with the system's reason.
    static func system(_ action: String, _ path: String, kind: FailureKind = .cannotWrite) -> StateError {
        StateError(kind, "cannot \(action) \(path): \(String(cString: strerror(errno)))")
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
