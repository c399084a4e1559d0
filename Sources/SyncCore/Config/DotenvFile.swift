import Foundation

/// A parsed dotenv file that remembers where each entry's value sits in the original text, so
/// single values can be edited later while every other byte of the file stays as it was.
///
/// Parsing follows Node's `dotenv` package (v16) exactly, because syncctl shares the file with a
/// Node application and both must read the same values:
/// - `\r\n` and lone `\r` count as line breaks; the text itself is kept unchanged.
/// - `KEY=VALUE` and `KEY: VALUE` (a colon needs whitespace after it); an optional `export ` prefix;
///   keys are `[A-Za-z0-9_.-]+`; blank lines and `#` comment lines are ignored.
/// - Unquoted values end at the first `#` (even without a space before it) or the end of the line,
///   and are trimmed.
/// - Values in single, double or backtick quotes keep inner whitespace and `#`, may span several
///   lines, and have no escapes except that `\n` and `\r` become a line feed and a carriage return
///   inside double quotes. A backslash before the quote character keeps both characters.
/// - `KEY=` is the empty string; when a key appears more than once the last one wins.
/// - dotenv's own quirks are kept too: `KEY=` followed by a line that starts with a quoted string
///   takes that string as its value, and `KEY:` at the end of a line takes the next line.
public struct DotenvFile: Sendable {
    /// How a value was written.
    public enum QuoteStyle: Sendable, Equatable, CaseIterable {
        /// Unquoted: `KEY=value`.
        case none
        /// `KEY='value'`.
        case single
        /// `KEY="value"`: the only style in which `\n` and `\r` are expanded.
        case double
        /// ``KEY=`value` ``.
        case backtick

        /// The quote character, or `nil` for an unquoted value.
        public var character: Character? {
            switch self {
            case .none: nil
            case .single: "'"
            case .double: "\""
            case .backtick: "`"
            }
        }
    }

    /// One `KEY=VALUE` assignment as dotenv reads it.
    public struct Entry: Sendable, Equatable {
        /// The variable name.
        public let key: String
        /// The value dotenv produces: quotes removed, `\n`/`\r` expanded in double quotes.
        public let value: String
        /// The 1-based line on which the key stands.
        public let line: Int
        /// Where the value is written in `text`, quotes included and surrounding whitespace and any
        /// inline comment excluded. Empty (just after the separator) when the value is missing.
        public let valueRange: Range<String.Index>
        /// How the value was quoted.
        public let quote: QuoteStyle
    }

    /// The file the text came from, if it came from a file.
    public let path: String?
    /// The text exactly as read.
    public let text: String
    /// Every assignment in file order, duplicates included.
    public let entries: [Entry]

    /// The variables dotenv would set: for a key that appears more than once, the last value.
    public var values: [String: String] {
        var result: [String: String] = [:]
        for entry in entries {
            result[entry.key] = entry.value
        }
        return result
    }

    /// Parses dotenv text. Parsing never fails: like dotenv, lines it cannot read are ignored.
    public init(text: String, path: String? = nil) {
        self.path = path
        self.text = text
        self.entries = Self.parse(text)
    }

    /// The assignment that decides `key`'s value (the last one), if any.
    public func lastEntry(for key: String) -> Entry? {
        entries.last { $0.key == key }
    }

    /// Reads and parses the dotenv file at `path`.
    ///
    /// - Throws: `ConfigError` of kind `.inputMissing` when the file does not exist or cannot be
    ///   read, `.badInput` when it is not UTF-8.
    public static func load(path: String) throws(ConfigError) -> DotenvFile {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        guard exists else {
            throw ConfigError(
                .inputMissing,
                "dotenv file \(path) does not exist: create it, or point syncctl at the file that holds the settings")
        }
        guard !isDirectory.boolValue else {
            throw ConfigError(.inputMissing, "cannot read dotenv file \(path): it is a directory, not a file")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ConfigError(.inputMissing, "cannot read dotenv file \(path): \(readFailureReason(error))")
        }
        // Strict decoding: a file that is not UTF-8 would be silently mangled by a lossy decode,
        // and a later edit would then write the mangled bytes back.
        guard let text = String(validating: data, as: UTF8.self) else {
            throw ConfigError(.badInput, "dotenv file \(path) is not valid UTF-8: save it as UTF-8 text")
        }
        return DotenvFile(text: text, path: path)
    }

    private static func readFailureReason(_ error: any Error) -> String {
        if let cocoa = error as? CocoaError {
            switch cocoa.code {
            case .fileReadNoPermission: return "permission denied (check the file's owner and mode)"
            case .fileReadNoSuchFile: return "it no longer exists"
            default: break
            }
        }
        let reason = (error as NSError).localizedDescription
        return reason.isEmpty ? "unknown read error" : reason
    }

    /// Runs dotenv's grammar over the text with line breaks normalised as dotenv does, mapping every
    /// position back to the original text so edits can keep `\r\n` where it was.
    private static func parse(_ text: String) -> [Entry] {
        let original = Array(text.utf16)
        var units: [UInt16] = []
        var originalOffset: [Int] = []  // normalised offset -> original offset, plus the end
        units.reserveCapacity(original.count)
        originalOffset.reserveCapacity(original.count + 1)
        var index = 0
        while index < original.count {
            originalOffset.append(index)
            if original[index] == 0x0D {
                units.append(0x0A)
                index += (index + 1 < original.count && original[index + 1] == 0x0A) ? 2 : 1
            } else {
                units.append(original[index])
                index += 1
            }
        }
        originalOffset.append(original.count)

        func stringIndex(_ normalisedOffset: Int) -> String.Index {
            String.Index(utf16Offset: originalOffset[normalisedOffset], in: text)
        }

        var entries: [Entry] = []
        var line = 1
        var lineCountedUpTo = 0
        for match in DotenvGrammar.matches(in: units) {
            line += units[lineCountedUpTo..<match.key.lowerBound].lazy.filter { $0 == 0x0A }.count
            lineCountedUpTo = match.key.lowerBound
            let raw = match.value.map { DotenvGrammar.trimmed($0, in: units) }
                ?? match.separatorEnd..<match.separatorEnd
            entries.append(
                Entry(
                    key: String(decoding: units[match.key], as: UTF16.self),
                    value: DotenvGrammar.value(fromTrimmed: units[raw]),
                    line: line,
                    valueRange: stringIndex(raw.lowerBound)..<stringIndex(raw.upperBound),
                    quote: quoteStyle(ofTrimmed: units[raw])))
        }
        return entries
    }

    /// The quote style dotenv strips from a trimmed raw value: the same quote at both ends.
    private static func quoteStyle(ofTrimmed raw: ArraySlice<UInt16>) -> QuoteStyle {
        guard raw.count >= 2, let first = raw.first, first == raw.last else { return .none }
        switch first {
        case 0x27: return .single
        case 0x22: return .double
        case 0x60: return .backtick
        default: return .none
        }
    }
}
