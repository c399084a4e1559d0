/// Looks up each setting by precedence, converts it, and phrases validation errors. Records the
/// source of every key it reads so `Settings.sources` is complete.
struct SettingReader {
    /// A value and the level it came from.
    struct Raw {
        let value: String
        let source: SettingSource
    }

    private let flags: [SettingKey: String]
    private let environment: [String: String]
    private let fileValues: [String: String]
    private let filePath: String?
    /// Where each key's value comes from; every key is present.
    var sources: [SettingKey: SettingSource] {
        Dictionary(uniqueKeysWithValues: SettingKey.allCases.map { ($0, lookup($0)?.source ?? .default) })
    }

    init(flags: [SettingKey: String], environment: [String: String], file: DotenvFile?) {
        self.flags = flags
        self.environment = environment
        self.fileValues = file?.values ?? [:]
        self.filePath = file?.path
    }

    /// The highest-precedence value of `key`, empty values included: an empty variable still hides
    /// the levels below it.
    func lookup(_ key: SettingKey) -> Raw? {
        if let value = flags[key] { return Raw(value: value, source: .flag) }
        if let value = environment[key.rawValue] { return Raw(value: value, source: .env) }
        if let value = fileValues[key.rawValue] { return Raw(value: value, source: .file) }
        return nil
    }

    /// Every non-empty value of `key` at any level, for secret registration.
    func allValues(of key: SettingKey) -> [String] {
        [flags[key], environment[key.rawValue], fileValues[key.rawValue]].compactMap { $0 }.filter { !$0.isEmpty }
    }

    /// Registers the secrets of every connection string at every level (the one in effect and
    /// any it overrides) with `SecretScrubber.shared`, before anything can print them.
    func registerConnectionStringSecrets() {
        for key in SettingKey.allCases where key.isConnectionString {
            for value in allValues(of: key) { SecretScrubber.shared.register(uri: value) }
        }
    }

    /// The value to convert, or nil when the default applies (unset, or set to empty).
    private func nonEmpty(_ key: SettingKey) -> Raw? {
        guard let raw = lookup(key), !raw.value.isEmpty else { return nil }
        return raw
    }

    // MARK: Conversions

    func bool(_ key: SettingKey, default defaultValue: Bool) throws(ConfigError) -> Bool {
        guard let raw = nonEmpty(key) else { return defaultValue }
        switch raw.value.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw invalid(key, raw, "expected true or false (1/0 and yes/no are also accepted)")
        }
    }

    func integer(
        _ key: SettingKey, default defaultValue: Int, in range: ClosedRange<Int>, unit: String? = nil
    ) throws(ConfigError) -> Int {
        guard let raw = nonEmpty(key) else { return defaultValue }
        // Int(_:) accepts only ASCII digits with an optional sign: no spaces, no "1e3", no "0x10".
        guard let value = Int(raw.value), range.contains(value) else {
            let what = unit.map { "a whole number of \($0)" } ?? "a whole number"
            let bounds = range.upperBound == Int.max
                ? "of at least \(range.lowerBound)" : "from \(range.lowerBound) to \(range.upperBound)"
            throw invalid(key, raw, "expected \(what) \(bounds)")
        }
        return value
    }

    func connectionString(_ key: SettingKey) throws(ConfigError) -> ConnectionString? {
        guard let raw = nonEmpty(key) else { return nil }
        switch ConnectionString.parse(raw.value) {
        case .success(let value): return value
        case .failure(let failure): throw invalid(key, raw, failure.reason)
        }
    }

    func path(_ key: SettingKey) throws(ConfigError) -> String? {
        guard let raw = nonEmpty(key) else { return nil }
        guard !raw.value.utf8.contains(0) else {
            throw invalid(key, raw, "expected a path without NUL characters")
        }
        return raw.value
    }

    /// Comma-separated collection names: entries trimmed, empty ones skipped, repeats dropped
    /// (the first kept), each checked against MongoDB's naming rules.
    func collectionNames(_ key: SettingKey) throws(ConfigError) -> [String] {
        guard let raw = nonEmpty(key) else { return [] }
        var names: [String] = []
        for part in raw.value.split(separator: ",", omittingEmptySubsequences: false) {
            let name = part.trimmingWhitespace()
            guard !name.isEmpty, !names.contains(name) else { continue }
            if name.contains("$") || name.utf8.contains(0) || name.hasPrefix("system.") {
                throw invalid(
                    key, raw,
                    "\(quoted(name)) is not a collection name (names cannot contain \"$\" or NUL, or start with \"system.\")")
            }
            names.append(name)
        }
        return names
    }

    // MARK: Errors

    /// An error for the effective value of `key`.
    func invalid(_ key: SettingKey, _ explanation: String) -> ConfigError {
        invalid(key, lookup(key) ?? Raw(value: key.defaultDescription, source: .default), explanation)
    }

    /// `KEY="value" (from origin) is not valid: explanation`, with URIs redacted.
    func invalid(_ key: SettingKey, _ raw: Raw, _ explanation: String) -> ConfigError {
        let shown = key.isConnectionString ? URIRedactor.redact(raw.value) : raw.value
        return ConfigError(
            .configuration, "\(key.rawValue)=\(quoted(shown)) (\(origin(raw.source))) is not valid: \(explanation)")
    }

    private func origin(_ source: SettingSource) -> String {
        switch source {
        case .flag: "from the command line"
        case .env: "from the environment"
        case .file: "from \(filePath ?? "the dotenv file")"
        case .default: "the default"
        }
    }

    /// The value in double quotes with quotes, backslashes and control characters escaped, so it
    /// stays on one line and its exact spaces are visible.
    private func quoted(_ value: String) -> String {
        var result = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || scalar == "\u{2028}" || scalar == "\u{2029}":
                result += "\\u{\(String(scalar.value, radix: 16))}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}

extension Substring {
    /// Without leading and trailing spaces, tabs and line breaks.
    fileprivate func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(self[first...last])
    }
}
