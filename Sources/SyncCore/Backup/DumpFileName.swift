import Crypto
import Foundation

/// File names as mongodump gives them: `<escaped collection>.bson[.gz]` and
/// `<escaped collection>.metadata.json[.gz]`, so mongorestore finds our files and we find its.
enum DumpFileName {
    static let bsonSuffix = ".bson"
    static let metadataSuffix = ".metadata.json"
    static let gzipSuffix = ".gz"

    static func bson(_ collection: String, gzip: Bool) -> String {
        escape(collection) + bsonSuffix + (gzip ? gzipSuffix : "")
    }

    static func metadata(_ collection: String, gzip: Bool) -> String {
        escape(collection) + metadataSuffix + (gzip ? gzipSuffix : "")
    }

    /// mongodump's escaping: Go's `url.PathEscape` (every byte outside `A–Z a–z 0–9 - _ . ~
    /// $ & + : = @` becomes `%XX`), and for names whose escaped form is over 238 bytes, the
    /// first 208 bytes, `%24`, and the unpadded base64url SHA-1 of the name, so that the
    /// longest file name (`.metadata.json.gz` added) fits in 255 bytes.
    static func escape(_ collection: String) -> String {
        let escaped = collection.percentEncoded(keeping: isUnescaped)
        guard escaped.utf8.count > 238 else { return escaped }
        let hash = Data(Insecure.SHA1.hash(data: Data(collection.utf8))).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        // Escaped names are ASCII: 208 characters are 208 bytes.
        return String(escaped.prefix(208)) + "%24" + hash
    }

    /// The collection name a file stem stands for (`url.PathUnescape`); nil when the stem has
    /// a broken `%` escape or is not UTF-8.
    static func unescape(_ stem: String) -> String? {
        stem.percentDecoded(strict: true)
    }

    private static func isUnescaped(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"), UInt8(ascii: "$"), UInt8(ascii: "&"),
            UInt8(ascii: "+"), UInt8(ascii: ":"), UInt8(ascii: "="), UInt8(ascii: "@"):
            true
        default:
            false
        }
    }
}
