/// A plain text table: a header row, then rows, columns padded to their widest cell; numbers
/// right-aligned. Styling (colour) is applied by the caller after padding, so widths count
/// only visible characters.
struct TextTable {
    enum Alignment { case left, right }

    struct Column {
        let title: String
        let alignment: Alignment
        init(_ title: String, _ alignment: Alignment = .left) {
            self.title = title
            self.alignment = alignment
        }
    }

    let columns: [Column]
    private(set) var rows: [[String]] = []

    init(_ columns: [Column]) {
        self.columns = columns
    }

    mutating func add(_ cells: [String]) {
        rows.append(cells)
    }

    /// The table as lines; `style(row, column, paddedText)` may decorate a cell (row -1 is the header).
    func lines(style: (Int, Int, String) -> String = { $2 }) -> [String] {
        let widths = columns.indices.map { index in
            ([columns[index].title] + rows.map { index < $0.count ? $0[index] : "" }).map(\.count).max() ?? 0
        }
        func line(_ cells: [String], row: Int) -> String {
            columns.indices.map { index in
                let cell = index < cells.count ? cells[index] : ""
                let padding = String(repeating: " ", count: widths[index] - cell.count)
                let padded = columns[index].alignment == .right ? padding + cell : cell + padding
                return style(row, index, padded)
            }.joined(separator: "  ").replacing(/\s+$/, with: "")
        }
        return [line(columns.map(\.title), row: -1)] + rows.enumerated().map { line($0.element, row: $0.offset) }
    }
}
