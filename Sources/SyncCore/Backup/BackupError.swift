/// A failure of a backup, a backup check or a restore, with the file it concerns (when one
/// does) so the operator knows which part of a backup is damaged.
public struct BackupError: ClassifiedError, Equatable {
    public let kind: FailureKind
    public let message: String
    /// The file or directory the problem is in, when there is one.
    public let path: String?

    public init(_ kind: FailureKind, _ message: String, path: String? = nil) {
        self.kind = kind
        self.message = String(message.map { $0.isNewline ? " " : $0 })
        self.path = path
    }

    public var description: String { message }

    /// A backup file that is not what its manifest or its format says: the backup must not be
    /// trusted, so the fix is always another backup.
    static func damaged(_ path: String, _ problem: String) -> BackupError {
        BackupError(.badInput, "\(path): \(problem): this backup is damaged; use another one (syncctl backup list)", path: path)
    }
}
