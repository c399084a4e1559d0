extension DotenvFile {
    /// Returns the text with each key set to its new value, changing as few bytes as possible.
    ///
    /// Rules, per key (changes apply in order, so a key listed twice ends with its last value):
    /// - A key that already has the value is left exactly as written.
    /// - An existing key: only the value of its LAST assignment is rewritten, because that is the one
    ///   dotenv reads; earlier duplicates stay as they are. The line's `export` prefix, separator,
    ///   inline comment and line ending (`\r\n` stays `\r\n`) are kept, as is every other byte.
    /// - Quoting: a quoted value keeps its quote character when the new value can be written in it.
    ///   Otherwise, and for unquoted values, the new value is written bare when dotenv would read it
    ///   back as is (no `#`, no line break, no whitespace at either end, no leading quote), else in
    ///   double quotes with line feeds and carriage returns written as `\n` and `\r`, else in single
    ///   quotes, else in backticks. dotenv has no other escapes, so a value containing a double quote
    ///   goes in single quotes, and so on. An empty value stays bare: `KEY=`.
    /// - A missing key is appended as `KEY=value` on a line of its own, ended with the file's most
    ///   common line ending; a line break is added first if the file does not end with one.
    /// - Every result is parsed again and must give exactly the expected values, so an edit can
    ///   never change another key's value through one of dotenv's quirks; when no way of writing
    ///   the value passes that check, the next one is tried.
    ///
    /// - Throws: `ConfigError` (`.configuration`) for a key dotenv cannot parse, or a value that
    ///   no quoting lets dotenv read back unchanged (for example one containing all three quote
    ///   characters and a line break). The message never includes the value, which may be secret.
    public func updating(_ changes: [(key: String, value: String)]) throws(ConfigError) -> String {
        var current = self
        for change in changes {
            current = try current.setting(change.key, to: change.value)
        }
        return current.text
    }

    /// Convenience for a single change; see `updating(_:)` for the rules.
    public func updating(_ key: String, to value: String) throws(ConfigError) -> String {
        try updating([(key: key, value: value)])
    }

    private var displayName: String { path ?? "the dotenv file" }

    private func setting(_ key: String, to value: String) throws(ConfigError) -> DotenvFile {
        guard !key.isEmpty, key.unicodeScalars.allSatisfy(Self.isKeyScalar) else {
            throw ConfigError(
                .configuration,
                "cannot write key \"\(key)\" to \(displayName): a dotenv key may only contain letters, digits, \"_\", \".\" and \"-\"")
        }
        let existing = lastEntry(for: key)
        if existing?.value == value { return self }  // already set: leave the bytes alone
        var expected = values
        expected[key] = value
        let expectedCount = entries.count + (existing == nil ? 1 : 0)

        for style in Self.candidateStyles(keeping: existing?.quote ?? .none)
        where Self.canWrite(value, as: style) {
            let written = Self.encode(value, as: style)
            let candidate: String
            if let existing {
                var scalars = text.unicodeScalars
                // Scalar view: the range is scalar-aligned, and Character-based replacement could
                // widen it to a grapheme boundary (a value starting with a combining mark).
                scalars.replaceSubrange(existing.valueRange, with: written.unicodeScalars)
                candidate = String(scalars)
            } else {
                candidate = appending("\(key)=\(written)")
            }
            let reparsed = DotenvFile(text: candidate, path: path)
            if reparsed.entries.count == expectedCount, reparsed.values == expected {
                return reparsed
            }
        }
        throw ConfigError(
            .configuration,
            "cannot write \(key) to \(displayName): no quoting lets dotenv read the new value back unchanged; edit the file by hand")
    }

    private static func isKeyScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", "_", ".", "-": true
        default: false
        }
    }

    /// Keep the old quote character first; then bare, double, single, backtick.
    private static func candidateStyles(keeping old: QuoteStyle) -> [QuoteStyle] {
        var styles: [QuoteStyle] = [old]
        for style in [QuoteStyle.none, .double, .single, .backtick] where !styles.contains(style) {
            styles.append(style)
        }
        return styles
    }

    /// Whether dotenv reads `encode(value, as: style)` back as `value` on its own. (The caller still
    /// checks the whole file, because neighbouring text can change how a value is read.)
    private static func canWrite(_ value: String, as style: QuoteStyle) -> Bool {
        let units = Array(value.utf16)
        let lineBreaks: Set<UInt16> = [0x0A, 0x0D, 0x2028, 0x2029]
        switch style {
        case .none:
            guard let first = units.first, let last = units.last else { return true }
            let quotes: Set<UInt16> = [0x22, 0x27, 0x60]
            return !DotenvGrammar.isSpace(first) && !DotenvGrammar.isSpace(last)
                && !quotes.contains(first)
                && !units.contains { $0 == 0x23 || lineBreaks.contains($0) }
        case .double:
            // No escape exists for `"`; a backslash before `n` or `r` would be expanded on reading.
            if units.contains(0x22) { return false }
            for (unit, next) in zip(units, units.dropFirst()) where unit == 0x5C {
                if next == 0x6E || next == 0x72 { return false }
            }
            return true
        case .single, .backtick:
            // No escapes at all: the quote character and raw line breaks (which dotenv would turn
            // `\r` into `\n`) cannot be written.
            let quote: UInt16 = style == .single ? 0x27 : 0x60
            return !units.contains { $0 == quote || lineBreaks.contains($0) }
        }
    }

    private static func encode(_ value: String, as style: QuoteStyle) -> String {
        switch style {
        case .none:
            return value
        case .double:
            var body = ""
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\n": body += "\\n"
                case "\r": body += "\\r"
                default: body.unicodeScalars.append(scalar)
                }
            }
            return "\"\(body)\""
        case .single:
            return "'\(value)'"
        case .backtick:
            return "`\(value)`"
        }
    }

    /// The text with `line` added at the end, line breaks matching the file.
    private func appending(_ line: String) -> String {
        let ending = dominantLineEnding
        var result = text
        if let last = text.utf16.last, last != 0x0A, last != 0x0D {
            result += ending
        }
        result += line + ending
        return result
    }

    /// The file's most common line ending; `\n` for a file without line breaks or on a tie.
    var dominantLineEnding: String {
        var crlf = 0, lf = 0, cr = 0
        let units = Array(text.utf16)
        var index = 0
        while index < units.count {
            if units[index] == 0x0D {
                if index + 1 < units.count, units[index + 1] == 0x0A {
                    crlf += 1
                    index += 1
                } else {
                    cr += 1
                }
            } else if units[index] == 0x0A {
                lf += 1
            }
            index += 1
        }
        if crlf > lf, crlf >= cr { return "\r\n" }
        if cr > lf, cr > crlf { return "\r" }
        return "\n"
    }
}
