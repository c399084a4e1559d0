/// Hides the secrets in a connection string so it can be shown: `scheme://user:***@hosts/db?opts`.
///
/// The rules lean towards hiding too much, never too little, because the strings we must show are
/// often invalid ones (a password pasted without percent-encoding):
/// - The user information ends at the LAST `@`: a raw `@` or `?` in a password cannot be told
///   apart from the start of the hosts or the options, so an `@` inside an option value hides more
///   than needed instead of revealing part of a password.
/// - Everything after the first `:` of the user information is the password and becomes `***`.
///   The user name stays so people can see which account is used — unless it contains `/`, `?`,
///   `&`, `;` or `=`, a sign that the split went through the hosts or options; then it is hidden too.
/// - Options whose name contains `password` (any case), e.g. `tlsCertificateKeyFilePassword`,
///   keep their name and lose their value, together with any following pieces that have no `=`
///   (the rest of a value cut by a raw `&`, `;` or `?`).
/// - Strings that do not start with `scheme://` are returned unchanged.
public enum URIRedactor {
    /// The redacted form of `uri`, or `uri` itself when it is not a URI.
    public static func redact(_ uri: String) -> String {
        URIParts(uri)?.redacted ?? uri
    }
}

/// Where the secrets are in a URI, found textually. Deliberately not a validating parser: it must
/// cope with the malformed strings that end up in error messages. Searching works on Unicode
/// scalars, not Characters: an `@` followed by a combining mark is a different Character, and
/// missing it would show a password.
struct URIParts {
    private let uri: String
    /// The password as written (possibly percent-encoded), if the user information has a `:`.
    private(set) var password: Range<String.Index>?
    /// Every range to hide: password, a user name that is not one, values of password options.
    private var hidden: [Range<String.Index>] = []

    init?(_ uri: String) {
        self.uri = uri
        let scalars = uri.unicodeScalars
        let schemeStart = scalars.firstIndex { $0 != " " && $0 != "\t" } ?? scalars.endIndex
        guard let schemeEnd = scalars[schemeStart...].firstRange(of: "://".unicodeScalars),
            let first = scalars[schemeStart...].first, ("a"..."z").contains(first) || ("A"..."Z").contains(first),
            scalars[schemeStart..<schemeEnd.lowerBound].allSatisfy(Self.isSchemeScalar)
        else { return nil }
        let rest = schemeEnd.upperBound..<scalars.endIndex

        if let at = scalars[rest].lastIndex(of: "@") {
            let userInfo = rest.lowerBound..<at
            if let colon = scalars[userInfo].firstIndex(of: ":") {
                let password = scalars.index(after: colon)..<at
                self.password = password
                hidden.append(password)
                if !Self.looksLikeUserName(scalars[userInfo.lowerBound..<colon]) {
                    hidden.append(userInfo.lowerBound..<colon)
                }
            }
            // Without a `:` there is no password at all; what precedes the `@` is shown, and the
            // option rules below still apply to it (`h/db?appName=a@b`).
        }
        hidden += Self.secretOptionValues(in: scalars[rest])
    }

    /// The string with every hidden range replaced by `***` (touching ranges by a single `***`).
    var redacted: String {
        var result = ""
        var shownFrom = uri.startIndex
        for run in mergedHiddenRuns {
            result += uri[shownFrom..<run.lowerBound]
            result += "***"
            shownFrom = run.upperBound
        }
        result += uri[shownFrom...]
        return result
    }

    /// Every secret as written: each hidden range (the user name only if it had to be hidden) and
    /// each merged run of them, so the text is caught both whole and in pieces.
    var secrets: [String] {
        let pieces = hidden.map { String(uri.unicodeScalars[$0]) }
        let runs = mergedHiddenRuns.map { String(uri.unicodeScalars[$0]) }
        var seen = Set<String>()
        return (pieces + runs).filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    /// Every string that some reading of `uri` takes as the password: the user information may end
    /// at any of its `@`s (libmongoc takes the first, we take the last), and the password starts
    /// after the first `:`. Used to scrub messages that quote a password as libmongoc split it.
    static func passwordCandidates(in uri: String) -> [String] {
        guard let parts = URIParts(uri), let password = parts.password else { return [] }
        let scalars = uri.unicodeScalars[password]
        var candidates = scalars.indices.filter { scalars[$0] == "@" }.map { String(scalars[..<$0]) }
        candidates.append(String(scalars))
        return candidates.filter { !$0.isEmpty }
    }

    private var mergedHiddenRuns: [Range<String.Index>] {
        var runs: [Range<String.Index>] = []
        // Empty ranges stay: an empty password still shows as `***`, revealing nothing about it.
        for range in hidden.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = runs.last, range.lowerBound <= last.upperBound {
                runs[runs.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                runs.append(range)
            }
        }
        return runs
    }

    /// Whether text before an `@` can be shown as a user name: it must not contain characters
    /// that only appear once the hosts or options have begun.
    private static func looksLikeUserName(_ text: Substring.UnicodeScalarView) -> Bool {
        !text.contains { "/?&;=".unicodeScalars.contains($0) }
    }

    /// The values of options named like `*password*`, and the `=`-less pieces that follow one.
    /// Pieces are split at `?`, `&` and `;` over everything after the scheme, so an option is found
    /// even when the last `@` fell inside its value.
    private static func secretOptionValues(in text: Substring.UnicodeScalarView) -> [Range<String.Index>] {
        var result: [Range<String.Index>] = []
        var hiding = false
        var pieceStart = text.startIndex
        var isFirstPiece = true
        func finishPiece(at end: String.Index) {
            let piece = text[pieceStart..<end]
            if let equals = piece.firstIndex(of: "=") {
                hiding = String(piece[..<equals]).lowercased().contains("password")
                if hiding { result.append(text.index(after: equals)..<end) }
            } else if hiding, !isFirstPiece, pieceStart < end {
                result.append(pieceStart..<end)
            }
            isFirstPiece = false
        }
        var index = text.startIndex
        while index < text.endIndex {
            if text[index] == "?" || text[index] == "&" || text[index] == ";" {
                finishPiece(at: index)
                pieceStart = text.index(after: index)
            }
            index = text.index(after: index)
        }
        finishPiece(at: text.endIndex)
        return result
    }

    private static func isSchemeScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "+", "-", ".": true
        default: false
        }
    }
}
