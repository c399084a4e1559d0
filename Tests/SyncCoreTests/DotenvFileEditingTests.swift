import Testing
@testable import SyncCore

@Suite struct DotenvFileEditingTests {
    private let seed = """
        # Dual MongoDB Sync Configuration
        SYNC_ENABLED=false                    # Keep disabled during setup
        MONGODB_LOCAL_URI=mongodb://localhost:27017/bomba
        MONGODB_ATLAS_URI=                    # Add your Atlas URI here

        # Sync Behavior
        SYNC_QUEUE_MAX_SIZE=10000
        SYNC_EXCLUDED_COLLECTIONS=

        """

    @Test func editingOneValueChangesOnlyThatValuesBytes() throws {
        let updated = try DotenvFile(text: seed).updating("SYNC_ENABLED", to: "true")
        #expect(updated == seed.replacingFirst(
            "SYNC_ENABLED=false                    #", with: "SYNC_ENABLED=true                    #"))
    }

    @Test func emptyValueIsFilledInPlaceKeepingTheInlineComment() throws {
        let atlas = "mongodb+srv://user:p%40ss@cluster0.x.mongodb.net/?retryWrites=true&w=majority"
        let updated = try DotenvFile(text: seed).updating("MONGODB_ATLAS_URI", to: atlas)
        #expect(updated == seed.replacingFirst("MONGODB_ATLAS_URI=", with: "MONGODB_ATLAS_URI=" + atlas))
        #expect(DotenvFile(text: updated).values["MONGODB_ATLAS_URI"] == atlas)
    }

    @Test func severalChangesApplyInOrderAndLeaveEverythingElse() throws {
        let updated = try DotenvFile(text: seed).updating([
            (key: "SYNC_ENABLED", value: "true"), (key: "SYNC_EXCLUDED_COLLECTIONS", value: "bills,orders"),
        ])
        let expected = seed
            .replacingFirst("SYNC_ENABLED=false ", with: "SYNC_ENABLED=true ")
            .replacingFirst("SYNC_EXCLUDED_COLLECTIONS=\n", with: "SYNC_EXCLUDED_COLLECTIONS=bills,orders\n")
        #expect(updated == expected)
    }

    @Test func editKeepsExportPrefixSeparatorSpacingAndQuoteCharacter() throws {
        let text = "export A = 'old'  # keep\nB: \"old\"\nC=`old`\n"
        let updated = try DotenvFile(text: text).updating([(key: "A", value: "new 1"), (key: "B", value: "new 2"), (key: "C", value: "new 3")])
        #expect(updated == "export A = 'new 1'  # keep\nB: \"new 2\"\nC=`new 3`\n")
    }

    @Test func settingTheCurrentValueLeavesTheTextUntouched() throws {
        let text = "A=\"two\nlines\"\nB=1\n"  // a literal line break, which an edit would write as \n
        #expect(try DotenvFile(text: text).updating([(key: "A", value: "two\nlines"), (key: "B", value: "1")]) == text)
    }

    @Test func crlfLineEndingsArePreservedOnEditedAndOtherLines() throws {
        let text = "A=1\r\nB=2 # two\r\nC=3\r\n"
        #expect(try DotenvFile(text: text).updating("B", to: "22") == "A=1\r\nB=22 # two\r\nC=3\r\n")
    }

    @Test func missingKeyIsAppendedWithTheFilesLineEnding() throws {
        #expect(try DotenvFile(text: "A=1\n").updating("NEW", to: "x") == "A=1\nNEW=x\n")
        #expect(try DotenvFile(text: "A=1\r\nB=2\r\n").updating("NEW", to: "x") == "A=1\r\nB=2\r\nNEW=x\r\n")
        #expect(try DotenvFile(text: "").updating("NEW", to: "x") == "NEW=x\n")
    }

    @Test func appendingToFileWithoutTrailingNewlineAddsLineBreakFirst() throws {
        #expect(try DotenvFile(text: "A=1").updating("NEW", to: "x") == "A=1\nNEW=x\n")
        #expect(try DotenvFile(text: "A=1\r\nB=2").updating("NEW", to: "x") == "A=1\r\nB=2\r\nNEW=x\r\n")
    }

    @Test func editingDuplicatedKeyChangesOnlyTheLastOccurrence() throws {
        let text = "K=first\nOTHER=o\nK=second # last wins\n"
        let updated = try DotenvFile(text: text).updating("K", to: "third")
        #expect(updated == "K=first\nOTHER=o\nK=third # last wins\n")
        #expect(DotenvFile(text: updated).values["K"] == "third")
    }

    @Test func unquotedValueThatNeedsQuotingGetsDoubleQuotes() throws {
        #expect(try DotenvFile(text: "A=x\n").updating("A", to: "has # hash") == "A=\"has # hash\"\n")
        #expect(try DotenvFile(text: "A=x\n").updating("A", to: " padded ") == "A=\" padded \"\n")
        #expect(try DotenvFile(text: "A=x\n").updating("A", to: "two\nlines") == "A=\"two\\nlines\"\n")
        #expect(try DotenvFile(text: "A=x\n").updating("A", to: "'leading quote") == "A=\"'leading quote\"\n")
    }

    @Test func valueWithDoubleQuoteFallsBackToSingleQuotesBecauseDotenvHasNoEscape() throws {
        let updated = try DotenvFile(text: "A=\"x\"\n").updating("A", to: "say \"hi\" #1")
        #expect(updated == "A='say \"hi\" #1'\n")
        #expect(DotenvFile(text: updated).values["A"] == "say \"hi\" #1")
    }

    @Test func quoteInsideUnquotedValueNeedsNoQuoting() throws {
        #expect(try DotenvFile(text: "A=x\n").updating("A", to: "it's") == "A=it's\n")
    }

    @Test func emptyValueStaysBareOrKeepsItsQuotes() throws {
        #expect(try DotenvFile(text: "A=x # c\n").updating("A", to: "") == "A= # c\n")
        #expect(try DotenvFile(text: "A='x'\n").updating("A", to: "") == "A=''\n")
    }

    @Test func editThatWouldChangeHowNeighboursParseIsWrittenDifferently() throws {
        // Bare, `KEY=` would take the quoted string on the next line as its value.
        let updated = try DotenvFile(text: "A=x\n'orphan'\n").updating("A", to: "")
        #expect(DotenvFile(text: updated).values == ["A": ""])
        #expect(updated == "A=\"\"\n'orphan'\n")
    }

    @Test func multiLineValueIsReplacedWhole() throws {
        let text = "A=1\nM=\"line one\nline two\" # c\nZ=2\n"
        #expect(try DotenvFile(text: text).updating("M", to: "one") == "A=1\nM=\"one\" # c\nZ=2\n")
    }

    @Test func valueNoQuotingCanCarryIsRefusedWithoutEchoingIt() {
        let secret = "a'b\"c`d\n"
        #expect {
            _ = try DotenvFile(text: "A=1\n", path: ".env").updating("A", to: secret)
        } throws: { error in
            let error = error as? ConfigError
            return error?.kind == .configuration && error?.message.contains("a'b") == false
                && error?.message.contains(".env") == true
        }
    }

    @Test func keyDotenvCannotParseIsRefused() {
        #expect(throws: ConfigError.self) { try DotenvFile(text: "").updating("BAD KEY", to: "1") }
        #expect(throws: ConfigError.self) { try DotenvFile(text: "").updating("", to: "1") }
    }

    @Test func editKeepsByteOrderMarkAndNonASCIIText() throws {
        let text = "\u{FEFF}# café ☕️\nA=é\u{301}\nB=😀\n"
        #expect(try DotenvFile(text: text).updating("A", to: "x") == "\u{FEFF}# café ☕️\nA=x\nB=😀\n")
    }
}

extension String {
    /// The string with the first occurrence of `target` replaced; fails the test if absent.
    fileprivate func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else {
            Issue.record("\(target.debugDescription) not found")
            return self
        }
        return replacingCharacters(in: range, with: replacement)
    }
}
