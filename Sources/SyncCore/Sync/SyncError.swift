/// A full-sync or verify run that cannot go on: a bad collection selection, a checkpoint that
/// cannot be written, or writes Atlas refused.
public struct SyncError: ClassifiedError {
    public let kind: FailureKind
    public let message: String
    public var description: String { message }

    public init(_ kind: FailureKind, _ message: String) {
        self.kind = kind
        self.message = message
    }
}
