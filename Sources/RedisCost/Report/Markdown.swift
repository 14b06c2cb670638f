import Foundation

/// Small helpers for markdown output; every cell goes through `cell` so that a `|` or a
/// newline in a key name or a complexity string never breaks a table.
enum Markdown {
    static func cell(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "|": out += "\\|"
            case "\n", "\r": out += " "
            default: out.append(character)
            }
        }
        return out
    }

    static func code(_ text: String) -> String {
        text.isEmpty ? "" : "`" + cell(text).replacingOccurrences(of: "`", with: "'") + "`"
    }

    static func table(header: [String], rows: [[String]], alignRight: Set<Int> = []) -> String {
        var out = "| " + header.joined(separator: " | ") + " |\n|"
        for index in header.indices { out += alignRight.contains(index) ? " ---: |" : " --- |" }
        out += "\n"
        for row in rows { out += "| " + row.map(cell).joined(separator: " | ") + " |\n" }
        return out
    }
}
