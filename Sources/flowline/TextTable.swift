/// An aligned table in the style of `simpleflow status`: a Markdown pipe table whose columns are padded, so it
/// reads at a glance in a terminal and still renders as Markdown.
struct TextTable {
    /// How a column's cells line up.
    enum Alignment {
        case left
        case right
    }

    /// A column: its header and alignment.
    struct Column {
        var header: String
        var alignment: Alignment

        init(_ header: String, _ alignment: Alignment = .left) {
            self.header = header
            self.alignment = alignment
        }
    }

    var columns: [Column]
    var rows: [[String]] = []

    init(_ columns: [Column]) { self.columns = columns }

    /// Adds a row; missing cells are blank and extra ones dropped.
    mutating func append(_ cells: [String]) {
        rows.append((0..<columns.count).map { $0 < cells.count ? cells[$0] : "" })
    }

    /// The table as lines, without a trailing newline.
    var rendered: String {
        let widths = columns.indices.map { i in
            max(columns[i].header.count, rows.map { $0[i].count }.max() ?? 0, 1)
        }
        func line(_ cells: [String]) -> String {
            let padded = cells.indices.map { i in
                let gap = String(repeating: " ", count: widths[i] - cells[i].count)
                return columns[i].alignment == .left ? cells[i] + gap : gap + cells[i]
            }
            return "| " + padded.joined(separator: " | ") + " |"
        }
        let rule = columns.indices.map { i in
            let dashes = String(repeating: "-", count: widths[i])
            return columns[i].alignment == .left ? ":" + dashes + "-" : "-" + dashes + ":"
        }
        var lines = [line(columns.map(\.header)), "|" + rule.joined(separator: "|") + "|"]
        lines += rows.map(line)
        return lines.joined(separator: "\n")
    }
}

/// Aligned `label  value` lines, for the header above a table and for `inspect` and `stats`.
struct Fields {
    private var pairs: [(String, String)] = []

    mutating func add(_ label: String, _ value: String) { pairs.append((label, value)) }

    var rendered: String {
        let width = pairs.map(\.0.count).max() ?? 0
        return pairs.map { label, value in
            label + String(repeating: " ", count: width - label.count + 2) + value
        }.joined(separator: "\n")
    }
}
