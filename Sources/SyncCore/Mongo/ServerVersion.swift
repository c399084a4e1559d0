/// A server version as `buildInfo.versionArray` gives it.
public struct ServerVersion: Sendable, Comparable, CustomStringConvertible {
    public let major: Int
    public let minor: Int
    public let patch: Int
    /// The server's own text, e.g. "7.0.12" or "8.0.0-rc1".
    public let text: String

    public init(major: Int, minor: Int, patch: Int, text: String? = nil) {
        self.major = major
        self.minor = minor
        self.patch = patch
        self.text = text ?? "\(major).\(minor).\(patch)"
    }

    /// Reads `versionArray`, or parses `version` when the array is missing.
    public init?(buildInfo: BSONDocument) {
        let text = buildInfo["version"]?.stringValue
        if let array = buildInfo["versionArray"]?.arrayValue?.compactMap(\.intValue), array.count >= 2 {
            self.init(major: array[0], minor: array[1], patch: array.count > 2 ? array[2] : 0, text: text)
        } else if let text {
            let parts = text.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            guard parts.count >= 2 else { return nil }
            self.init(major: parts[0], minor: parts[1], patch: parts.count > 2 ? parts[2] : 0, text: text)
        } else {
            return nil
        }
    }

    public var description: String { text }

    public static func < (lhs: ServerVersion, rhs: ServerVersion) -> Bool {
        (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
    }
}
