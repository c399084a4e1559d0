import Synchronization

/// Replaces registered secrets with `***` in any text before it is shown or written: log lines,
/// driver error messages, JSON reports.
///
/// Redacting URIs where we print them is not enough, because secrets also reach output through
/// text we do not build ourselves (a driver message quoting a password, a host name that is really
/// half a mis-typed password). So every secret is registered once, when it is read, and the output
/// layer scrubs everything it writes.
public final class SecretScrubber: Sendable {
    /// The process-wide registry. A shared instance is justified here: secrets are discovered where
    /// settings are resolved, but must be scrubbed in places that never see the settings (the log
    /// handler, driver callbacks, the output layer), and a secret registered anywhere must be hidden
    /// everywhere.
    public static let shared = SecretScrubber()

    /// Registered secrets as UTF-8, longest first, so a whole URI is replaced before the password
    /// inside it would break it up.
    private let secrets = Mutex<[[UInt8]]>([])

    /// An empty scrubber; most code uses `shared`, tests and one-off messages use their own.
    public init() {}

    /// Registers a secret, plus the form JSON encoders give it (`"` `\` `/` and control characters
    /// escaped), so it is also found inside serialised JSON. Empty strings are ignored.
    public func register(_ secret: String) {
        let forms = Set([secret, Self.jsonEscaped(secret), Self.jsonEscaped(secret, slash: true)])
            .filter { !$0.isEmpty }
            .map { Array($0.utf8) }
        guard !forms.isEmpty else { return }
        secrets.withLock { list in
            for form in forms where !list.contains(form) {
                list.append(form)
            }
            list.sort { $0.count > $1.count }
        }
    }

    /// Registers the secrets in a connection string: the whole string, and everything
    /// `URIRedactor` hides (the password, values of options named like `*password*`) as written,
    /// percent-decoded and re-encoded. Works on malformed strings too, since those are the ones
    /// users paste unencoded.
    public func register(uri: String) {
        guard let secrets = URIParts(uri)?.secrets, !secrets.isEmpty else { return }
        register(uri)
        for secret in secrets {
            let decoded = secret.removingPercentEncodingLeniently() ?? secret
            register(secret)
            register(decoded)
            register(decoded.percentEncodedForUserInfo())
        }
    }

    /// `text` with every registered secret replaced by `***`. Matching is byte for byte on UTF-8,
    /// so no Unicode normalisation or grapheme boundary can hide an occurrence.
    public func scrub(_ text: String) -> String {
        let list = secrets.withLock { $0 }
        guard !list.isEmpty else { return text }
        var bytes = Array(text.utf8)
        var changed = false
        for secret in list where bytes.count >= secret.count {
            if let replaced = Self.replacingOccurrences(of: secret, in: bytes) {
                bytes = replaced
                changed = true
            }
        }
        guard changed else { return text }
        // Replacing whole valid UTF-8 sequences with ASCII keeps the bytes valid UTF-8.
        return String(decoding: bytes, as: UTF8.self)
    }

    private static let mask = Array("***".utf8)

    private static func replacingOccurrences(of needle: [UInt8], in haystack: [UInt8]) -> [UInt8]? {
        guard let first = needle.first else { return nil }
        var result: [UInt8] = []
        var index = 0
        var found = false
        let last = haystack.count - needle.count
        while index < haystack.count {
            if index <= last, haystack[index] == first,
                haystack[index..<(index + needle.count)].elementsEqual(needle)
            {
                if !found {
                    result.reserveCapacity(haystack.count)
                    result.append(contentsOf: haystack[..<index])
                    found = true
                }
                result.append(contentsOf: mask)
                index += needle.count
            } else {
                if found { result.append(haystack[index]) }
                index += 1
            }
        }
        return found ? result : nil
    }

    /// The body of a JSON string literal holding `text`.
    static func jsonEscaped(_ text: String, slash: Bool = false) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "/" where slash: result += "\\/"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\u{08}": result += "\\b"
            case "\u{0C}": result += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
