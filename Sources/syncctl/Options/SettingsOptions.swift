import Foundation
import ArgumentParser
import SyncCore

/// Where settings come from, and command-line overrides (the highest precedence).
struct SettingsOptions: ParsableArguments {
    /// The dotenv file; default `server/.env` if it exists, else `.env`.
    @Option(name: .customLong("env-file"), help: ArgumentHelp(
        "The dotenv file to read (default: server/.env if present, else .env).", valueName: "path"))
    var envFile: String?

    /// Run from the process environment and defaults alone (CI smoke runs).
    @Flag(name: .customLong("no-env-file"), help: "Read no dotenv file: settings come from the environment, flags and defaults.")
    var noEnvFile = false

    /// Overrides MONGODB_LOCAL_URI.
    @Option(name: .customLong("local-uri"), help: ArgumentHelp("Override MONGODB_LOCAL_URI.", valueName: "uri"))
    var localURI: String?

    /// Overrides MONGODB_ATLAS_URI.
    @Option(name: .customLong("atlas-uri"), help: ArgumentHelp("Override MONGODB_ATLAS_URI.", valueName: "uri"))
    var atlasURI: String?

    /// Any other setting, as KEY=VALUE; repeatable.
    @Option(name: .customLong("set"), help: ArgumentHelp("Override any setting (repeatable), e.g. --set SYNC_BATCH_SIZE=500.", valueName: "KEY=VALUE"))
    var overrides: [String] = []

    /// Seconds to wait for a server before calling it unreachable.
    @Option(name: .customLong("timeout"), help: ArgumentHelp(
        "Seconds to wait for a server before reporting it unreachable (overrides the URI's serverSelectionTimeoutMS/connectTimeoutMS; default 5).",
        valueName: "seconds"))
    var timeout: Double?

    func validate() throws {
        for item in overrides {
            guard let equals = item.firstIndex(of: "=") else {
                throw ValidationError("--set expects KEY=VALUE, got '\(item)'")
            }
            let key = String(item[..<equals])
            guard SettingKey(rawValue: key) != nil else {
                let known = SettingKey.allCases.map(\.rawValue).joined(separator: ", ")
                throw ValidationError("--set: unknown setting '\(key)' (known: \(known))")
            }
        }
        if let timeout, !(timeout > 0 && timeout <= 600) {
            throw ValidationError("--timeout must be a number of seconds between 0 and 600, got \(timeout)")
        }
        if noEnvFile && envFile != nil {
            throw ValidationError("--env-file and --no-env-file cannot be used together")
        }
    }

    /// The flag-level settings, keyed by setting.
    var flagValues: [SettingKey: String] {
        var values: [SettingKey: String] = [:]
        for item in overrides {
            guard let equals = item.firstIndex(of: "="), let key = SettingKey(rawValue: String(item[..<equals])) else { continue }
            values[key] = String(item[item.index(after: equals)...])
        }
        if let localURI { values[.localURI] = localURI }
        if let atlasURI { values[.atlasURI] = atlasURI }
        return values
    }

    /// Connection options for probes and commands.
    var poolOptions: PoolOptions {
        var options = PoolOptions()
        if let timeout {
            let ms = Int32(timeout * 1000)
            options.serverSelectionTimeoutMS = ms
            options.connectTimeoutMS = ms
            options.overrideTimeouts = true
        }
        return options
    }
}

extension SettingsOptions {
    /// The dotenv file to read: `--env-file`, else `server/.env` if present, else `.env`;
    /// nil with `--no-env-file`.
    func envFilePath(fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }) throws(ConfigError) -> String? {
        if noEnvFile { return nil }
        if let envFile {
            guard fileExists(envFile) else {
                throw ConfigError(.inputMissing, "--env-file \(envFile) does not exist: check the path")
            }
            return envFile
        }
        for candidate in ["server/.env", ".env"] where fileExists(candidate) {
            return candidate
        }
        throw ConfigError(.inputMissing,
            "no .env file (looked for server/.env and .env): pass --env-file PATH, or --no-env-file to use the environment alone")
    }

    /// Settings from every source, validated.
    func load() throws(ConfigError) -> Settings {
        let file = try envFilePath().map { path throws(ConfigError) in try DotenvFile.load(path: path) }
        return try Settings.resolve(flags: flagValues, environment: ProcessInfo.processInfo.environment, file: file)
    }
}
