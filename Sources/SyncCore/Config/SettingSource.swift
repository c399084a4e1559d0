/// Where a setting's effective value came from, highest precedence first.
public enum SettingSource: String, Sendable, Codable, CaseIterable {
    /// A command-line flag.
    case flag
    /// The process environment.
    case env
    /// The dotenv file.
    case file
    /// syncctl's built-in default.
    case `default`
}
