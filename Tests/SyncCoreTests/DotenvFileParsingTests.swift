import Testing
@testable import SyncCore

// Expected values were checked against Node's dotenv 16 parse() on the same text.
@Suite struct DotenvFileParsingTests {
    @Test func parsesAssignmentsExportPrefixColonFormAndSkipsCommentsAndBlankLines() {
        let file = DotenvFile(text: "A=1\nexport B=two\nC: three\n# comment\n\nD=\nE= spaced value   \n")
        #expect(file.values == ["A": "1", "B": "two", "C": "three", "D": "", "E": "spaced value"])
        #expect(file.entries.map(\.line) == [1, 2, 3, 6, 7])
    }

    @Test func quotedValuesOfAllThreeKindsKeepWhitespaceAndHash() {
        let file = DotenvFile(text: "S='single # kept  '\nD=\"double # kept\"\nT=`back # kept`\n")
        #expect(file.values == ["S": "single # kept  ", "D": "double # kept", "T": "back # kept"])
        #expect(file.entries.map(\.quote) == [.single, .double, .backtick])
    }

    @Test func unquotedValueEndsAtAnyHashEvenWithoutSpaceBeforeIt() {
        let file = DotenvFile(text: "A=value # comment\nB=value#comment\nC=\"quoted\" # comment\n")
        #expect(file.values == ["A": "value", "B": "value", "C": "quoted"])
    }

    @Test func onlyDoubleQuotesExpandBackslashNAndBackslashR() {
        let file = DotenvFile(text: #"D="keep \t and \\ but expand \n and \r""# + "\n" + #"S='no \n expansion'"# + "\n")
        #expect(file.values["D"] == "keep \\t and \\\\ but expand \n and \r")
        #expect(file.values["S"] == #"no \n expansion"#)
    }

    @Test func lastDuplicateKeyWinsButEveryEntryIsKept() {
        let file = DotenvFile(text: "K=first\nK=second\nK=third\n")
        #expect(file.values == ["K": "third"])
        #expect(file.entries.map(\.value) == ["first", "second", "third"])
        #expect(file.lastEntry(for: "K")?.line == 3)
    }

    @Test func crlfAndLoneCRCountAsLineBreaks() {
        let crlf = DotenvFile(text: "A=1\r\nB=\"x\r\ny\"\r\nC=3\r\n")
        #expect(crlf.values == ["A": "1", "B": "x\ny", "C": "3"])
        #expect(crlf.entries.map(\.line) == [1, 2, 4])
        #expect(DotenvFile(text: "A=1\rB=2\r").values == ["A": "1", "B": "2"])
    }

    @Test func lastLineWithoutTrailingNewlineIsRead() {
        #expect(DotenvFile(text: "LAST=no newline").values == ["LAST": "no newline"])
    }

    @Test func quotedValuesMaySpanSeveralLines() {
        let file = DotenvFile(text: "M=\"line one\nline two\"\nN='a\nb'\nO=`c\nd`\nP=after\n")
        #expect(file.values == ["M": "line one\nline two", "N": "a\nb", "O": "c\nd", "P": "after"])
        #expect(file.entries.map(\.line) == [1, 3, 5, 7])
    }

    @Test func missingAndEmptyValuesAreEmptyStrings() {
        let file = DotenvFile(text: "E=\nF=''\nG=\"\"\nH=   \nI=  # only comment\n")
        #expect(file.values == ["E": "", "F": "", "G": "", "H": "", "I": ""])
    }

    @Test func indentationSpacesAroundEqualsAndDottedKeysAreAcceptedAndJunkLinesIgnored() {
        let file = DotenvFile(text: "  INDENTED = yes  \nexport   SPACED=ok\nbad line\nkey.with-dots_and=fine\n")
        #expect(file.values == ["INDENTED": "yes", "SPACED": "ok", "key.with-dots_and": "fine"])
    }

    @Test func mismatchedQuotesAreKeptLiterallyAsDotenvDoes() {
        let file = DotenvFile(text: "D='it''s'\nU=\"unterminated\nNEXT=1\n")
        #expect(file.values == ["D": "it''s", "U": "\"unterminated", "NEXT": "1"])
    }

    @Test func dotenvQuirksAreReproduced() {
        // dotenv lets `KEY=` take a quoted string from the next line, and `KEY:` take the next line.
        #expect(DotenvFile(text: "EMPTY=\n'quoted'\n").values == ["EMPTY": "quoted"])
        #expect(DotenvFile(text: "COLON:\nNEXT=x\n").values == ["COLON": "NEXT=x"])
    }

    @Test func seedSettingsFileReadsAsTheNodeApplicationReadsIt() {
        let text = """
            # Dual MongoDB Sync Configuration
            SYNC_ENABLED=false                    # Keep disabled during setup
            MONGODB_LOCAL_URI=mongodb://localhost:27017/bomba
            MONGODB_ATLAS_URI=                    # Add your Atlas URI here

            SYNC_EXCLUDED_COLLECTIONS=

            """
        let file = DotenvFile(text: text)
        #expect(file.values == [
            "SYNC_ENABLED": "false", "MONGODB_LOCAL_URI": "mongodb://localhost:27017/bomba",
            "MONGODB_ATLAS_URI": "", "SYNC_EXCLUDED_COLLECTIONS": "",
        ])
    }

    @Test func valueRangeCoversTheWrittenValueWithQuotesButNotSpacesOrComment() {
        let text = "export A = \"x y\"  # note\r\nB=plain # c\r\nC=\r\n"
        let file = DotenvFile(text: text)
        #expect(file.entries.map { String(text[$0.valueRange]) } == ["\"x y\"", "plain", ""])
        let c = file.entries[2]
        #expect(text.utf8.distance(from: text.startIndex, to: c.valueRange.lowerBound) == text.utf8.count - 2)
    }

    @Test func byteOrderMarkBeforeFirstKeyIsSkippedLikeWhitespace() {
        #expect(DotenvFile(text: "\u{FEFF}A=1\n").values == ["A": "1"])
    }

    @Test func veryLongQuotedValueDoesNotStopParsingOfLaterEntries() {
        // A regex engine with a bounded backtracking stack (ICU) silently lost these entries.
        let long = String(repeating: "line\n", count: 100_000)
        let file = DotenvFile(text: "A=1\nCERT=\"\(long)\"\nZ=26\n")
        #expect(file.values["CERT"]?.utf8.count == long.utf8.count)
        #expect(file.values["Z"] == "26")
    }
}
