import Foundation

/// The one JSON dialect of every file syncctl writes (journal, metrics samples, checkpoints,
/// queue state, backup manifest, restore plan): sorted keys and unescaped slashes, so files
/// diff cleanly and read naturally; dates as ISO 8601.
public enum StateJSON {
    /// `pretty`: indented, for files people open (manifest, checkpoint); otherwise one line
    /// (journal lines, state rewritten often).
    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
