extension String {
    /// Decodes `%XX` escapes (two hexadecimal digits, either case). `strict`: a malformed
    /// escape makes the result nil (Go's `url.PathUnescape`, for mongodump file names);
    /// otherwise it stays as written (a password typed by hand may hold a literal `%`). nil
    /// too when the result would not be UTF-8.
    func percentDecoded(strict: Bool) -> String? {
        let bytes = Array(utf8)
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "%") else {
                decoded.append(bytes[index])
                index += 1
                continue
            }
            if index + 2 < bytes.count, let high = Self.hexValue(bytes[index + 1]), let low = Self.hexValue(bytes[index + 2]) {
                decoded.append(high << 4 | low)
                index += 3
            } else if strict {
                return nil
            } else {
                decoded.append(bytes[index])
                index += 1
            }
        }
        return String(validating: decoded, as: UTF8.self)
    }

    /// Percent-decoding that leaves malformed escapes as they are, because a password typed by hand
    /// may contain a literal `%`. Returns nil when the result would not be UTF-8.
    func removingPercentEncodingLeniently() -> String? {
        percentDecoded(strict: false)
    }

    /// Every byte `keep` rejects as `%XX`, upper-case hex.
    func percentEncoded(keeping keep: (UInt8) -> Bool) -> String {
        var result = ""
        for byte in utf8 {
            if keep(byte) {
                result.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                result += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return result
    }

    /// The string percent-encoded the way drivers encode a password (everything but RFC 3986
    /// unreserved characters), with upper-case hex, so a re-encoded password is recognised too.
    func percentEncodedForUserInfo() -> String {
        percentEncoded { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: "_"), UInt8(ascii: "~"):
                true
            default:
                false
            }
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
