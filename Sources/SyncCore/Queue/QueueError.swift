/// A failure of replaying the sync queue that is not a file error (those are `StateError`s)
/// nor a driver error (`MongoError`): e.g. Atlas stayed unreachable, so entries stay queued.
/// The kind picks the exit code.
public struct QueueError: ClassifiedError {
    public let kind: FailureKind
    public let message: String
    public var description: String { message }

    public init(_ kind: FailureKind, _ message: String) {
        self.kind = kind
        self.message = message
    }
}
