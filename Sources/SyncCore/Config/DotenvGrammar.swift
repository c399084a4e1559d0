/// dotenv v16's grammar (Node), reproduced exactly so that syncctl reads a `.env` file as the Node
/// application sharing it does — quirks included.
///
/// dotenv runs one JavaScript regular expression over the text (flags `mg`), after turning `\r\n`
/// and `\r` into `\n`:
///
///     (?:^|^)\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"
///     |\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)
///
/// This is a hand-written matcher for that expression rather than a regex engine run, because
/// ICU (behind `NSRegularExpression`) gives up on quoted values past about 50 000 characters and
/// then silently drops that entry and every later one, where Node keeps going. The backtracking
/// the expression can do reduces to a few cases, derived below where they are used. JavaScript's
/// semantics are kept: `\s` is its fixed whitespace set, `\w` is ASCII, and `^`, `$` and `.` treat
/// `\n`, `\r`, U+2028 and U+2029 as line terminators. Positions are UTF-16 offsets, as in
/// JavaScript. `DotenvFileParsingTests` pins the behaviour; it was checked against Node's dotenv.
enum DotenvGrammar {
    /// One match of the expression: UTF-16 offsets into the normalised text.
    struct Match {
        /// Capture group 1.
        var key: Range<Int>
        /// Where the separator (`=` or `: `) ends, so a missing value still has a position.
        var separatorEnd: Int
        /// Capture group 2, untrimmed; nil when the group did not take part.
        var value: Range<Int>?
        /// Where the whole match ends: the next search starts here.
        var end: Int
    }

    /// Every match, as `RegExp.prototype.exec` in a loop finds them.
    static func matches(in units: [UInt16]) -> [Match] {
        var result: [Match] = []
        var searchFrom = 0
        while let start = lineStart(atOrAfter: searchFrom, in: units) {
            if let match = match(at: start, in: units) {
                result.append(match)
                searchFrom = match.end  // always past `start`: a key is never empty
            } else {
                searchFrom = start + 1
            }
        }
        return result
    }

    // MARK: Character classes

    /// JavaScript's `\s` (WhiteSpace and LineTerminator); also what `String.prototype.trim` removes.
    static func isSpace(_ unit: UInt16) -> Bool {
        switch unit {
        case 0x09...0x0D, 0x20, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF: true
        default: false
        }
    }

    /// JavaScript's LineTerminator, which `^`, `$` and `.` respect under the `m` flag.
    static func isLineTerminator(_ unit: UInt16) -> Bool {
        unit == 0x0A || unit == 0x0D || unit == 0x2028 || unit == 0x2029
    }

    /// `[\w.-]` with JavaScript's ASCII-only `\w`.
    private static func isKeyUnit(_ unit: UInt16) -> Bool {
        switch unit {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x5F, 0x2E, 0x2D: true
        default: false
        }
    }

    private static let hash: UInt16 = 0x23
    private static let backslash: UInt16 = 0x5C
    private static let quotes: [UInt16] = [0x27, 0x22, 0x60]  // ' " ` in the expression's order

    // MARK: Matching

    /// The first position `^` accepts at or after `offset`: the start, or just after a terminator.
    private static func lineStart(atOrAfter offset: Int, in units: [UInt16]) -> Int? {
        guard offset <= units.count else { return nil }
        if offset == 0 || isLineTerminator(units[offset - 1]) { return offset }
        var index = offset
        while index < units.count {
            if isLineTerminator(units[index]) { return index + 1 }
            index += 1
        }
        return nil
    }

    /// The expression anchored at line start `start`.
    ///
    /// Backtracking into the leading `\s*`, into `export\s+` or into the key can never help: each
    /// would leave whitespace or a key character where the next token needs something else. So the
    /// only retry is the one alternative `(?:export\s+)?` offers: "export" read as the key.
    private static func match(at start: Int, in units: [UInt16]) -> Match? {
        let afterSpace = skipSpace(from: start, in: units)
        let export: [UInt16] = Array("export".utf16)
        if afterSpace + export.count < units.count,
            units[afterSpace..<(afterSpace + export.count)].elementsEqual(export),
            isSpace(units[afterSpace + export.count]),
            let match = matchKey(at: skipSpace(from: afterSpace + export.count, in: units), in: units)
        {
            return match
        }
        return matchKey(at: afterSpace, in: units)
    }

    /// Key, separator, value and tail from `keyStart`.
    ///
    /// Once a separator matched, the rest always matches with the lazy `\s*?`/`\s+?` at its
    /// shortest (the value group is optional and the tail accepts `#`, a terminator or the end),
    /// so the lazy quantifiers never grow.
    private static func matchKey(at keyStart: Int, in units: [UInt16]) -> Match? {
        var keyEnd = keyStart
        while keyEnd < units.count, isKeyUnit(units[keyEnd]) { keyEnd += 1 }
        guard keyEnd > keyStart else { return nil }
        let key = keyStart..<keyEnd

        let equals = skipSpace(from: keyEnd, in: units)
        if equals < units.count, units[equals] == 0x3D {
            return matchValue(key: key, at: equals + 1, in: units)
        }
        if keyEnd + 1 < units.count, units[keyEnd] == 0x3A, isSpace(units[keyEnd + 1]) {
            return matchValue(key: key, at: keyEnd + 2, in: units)
        }
        return nil
    }

    /// The value group and the tail, from just after the separator.
    private static func matchValue(key: Range<Int>, at start: Int, in units: [UInt16]) -> Match {
        // Alternatives 1-3: `\s*` then a quoted string followed by a valid tail.
        let open = skipSpace(from: start, in: units)
        if open < units.count, quotes.contains(units[open]) {
            for close in closingQuoteCandidates(open: open, in: units) {
                if let end = tail(from: close + 1, in: units) {
                    return Match(key: key, separatorEnd: start, value: start..<(close + 1), end: end)
                }
            }
        }
        // Alternative 4: `[^#\r\n]+`, greedy; the tail always matches after it.
        var stop = start
        while stop < units.count, units[stop] != hash, units[stop] != 0x0D, units[stop] != 0x0A { stop += 1 }
        if stop > start, let end = tail(from: stop, in: units) {
            return Match(key: key, separatorEnd: start, value: start..<stop, end: end)
        }
        // No value: the group is skipped.
        return Match(key: key, separatorEnd: start, value: nil, end: tail(from: start, in: units) ?? start)
    }

    /// Where `Q(?:\\Q|[^Q])*Q` may close, in the order backtracking tries them.
    ///
    /// Greedily the body takes `\Q` pairs and non-Q characters and stops at the first lone Q: that
    /// is the first candidate. Backtracking then revisits the `\Q` pairs from the last to the
    /// first; reading a pair's backslash as `[^Q]` lets its Q close the string.
    private static func closingQuoteCandidates(open: Int, in units: [UInt16]) -> [Int] {
        let quote = units[open]
        var escapedQuotes: [Int] = []
        var index = open + 1
        while index < units.count {
            if units[index] == backslash, index + 1 < units.count, units[index + 1] == quote {
                escapedQuotes.append(index + 1)
                index += 2
            } else if units[index] != quote {
                index += 1
            } else {
                return [index] + escapedQuotes.reversed()
            }
        }
        return escapedQuotes.reversed()
    }

    /// `\s*(?:#.*)?$` from `offset`: where it ends, or nil if it cannot match.
    ///
    /// Greedy `\s*` runs to the first non-space; there a comment runs to the end of its line, or
    /// the end of the text matches `$`. Otherwise `\s*` gives back characters until `$` holds,
    /// which is just before the last terminator it had taken.
    private static func tail(from offset: Int, in units: [UInt16]) -> Int? {
        var index = offset
        var lastTerminator: Int?
        while index < units.count, isSpace(units[index]) {
            if isLineTerminator(units[index]) { lastTerminator = index }
            index += 1
        }
        if index == units.count { return index }
        if units[index] == hash {
            while index < units.count, !isLineTerminator(units[index]) { index += 1 }
            return index
        }
        return lastTerminator
    }

    private static func skipSpace(from offset: Int, in units: [UInt16]) -> Int {
        var index = offset
        while index < units.count, isSpace(units[index]) { index += 1 }
        return index
    }

    // MARK: Values

    /// `range` without the JavaScript whitespace at either end (what `String.prototype.trim` keeps).
    /// All whitespace gives an empty range at the START, so a value written there later lands
    /// right after the `=` rather than just before an inline comment.
    static func trimmed(_ range: Range<Int>, in units: [UInt16]) -> Range<Int> {
        var lower = range.lowerBound
        var upper = range.upperBound
        while upper > lower, isSpace(units[upper - 1]) { upper -= 1 }
        while lower < upper, isSpace(units[lower]) { lower += 1 }
        return upper == lower ? range.lowerBound..<range.lowerBound : lower..<upper
    }

    /// The value dotenv produces from an already trimmed raw value: `/^(['"`])([\s\S]*)\1$/mg`
    /// replaced by `$2`, then `\n` and `\r` expanded if the raw value began with a double quote.
    static func value(fromTrimmed raw: ArraySlice<UInt16>) -> String {
        let raw = Array(raw)
        var units = removingSurroundingQuotes(raw)
        if raw.first == 0x22 {
            units = expanding(expanding(units, letter: 0x6E, into: 0x0A), letter: 0x72, into: 0x0D)
        }
        return String(decoding: units, as: UTF16.self)
    }

    /// The global, multi-line quote removal: at each line start holding a quote, the longest span
    /// up to the same quote standing at a line end loses both quotes.
    private static func removingSurroundingQuotes(_ units: [UInt16]) -> [UInt16] {
        var result: [UInt16] = []
        var copied = 0
        var index = 0
        while index < units.count {
            let atLineStart = index == 0 || isLineTerminator(units[index - 1])
            if atLineStart, quotes.contains(units[index]) {
                var close = units.count - 1
                while close > index {
                    let atLineEnd = close + 1 == units.count || isLineTerminator(units[close + 1])
                    if units[close] == units[index], atLineEnd { break }
                    close -= 1
                }
                if close > index {
                    result += units[copied..<index]
                    result += units[(index + 1)..<close]
                    copied = close + 1
                    index = close + 1
                    continue
                }
            }
            index += 1
        }
        result += units[copied...]
        return result
    }

    /// `.replace(/\\<letter>/g, replacement)` on code units, left to right.
    private static func expanding(_ units: [UInt16], letter: UInt16, into replacement: UInt16) -> [UInt16] {
        var result: [UInt16] = []
        result.reserveCapacity(units.count)
        var index = 0
        while index < units.count {
            if units[index] == backslash, index + 1 < units.count, units[index + 1] == letter {
                result.append(replacement)
                index += 2
            } else {
                result.append(units[index])
                index += 1
            }
        }
        return result
    }
}
