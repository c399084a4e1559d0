/// The result of one automatic check.
public enum CheckResult: String, Sendable, Codable, CaseIterable {
    case pass, fail, warn, skip
}

/// One check as reported: a stable id (the checklists refer to it), a title, its result
/// and a one-line detail saying what was seen or what to do.
public struct CheckOutcome: Sendable, Codable, Equatable {
    public let id: String
    public let section: String
    public let title: String
    public let result: CheckResult
    public let detail: String

    public init(id: String, section: String, title: String, result: CheckResult, detail: String) {
        self.id = id
        self.section = section
        self.title = title
        self.result = result
        self.detail = detail
    }
}

/// Counts of each result, for summaries.
public struct CheckSummary: Sendable, Codable, Equatable {
    public var pass = 0
    public var fail = 0
    public var warn = 0
    public var skip = 0

    public init(_ outcomes: [CheckOutcome]) {
        for outcome in outcomes {
            switch outcome.result {
            case .pass: pass += 1
            case .fail: fail += 1
            case .warn: warn += 1
            case .skip: skip += 1
            }
        }
    }
}
