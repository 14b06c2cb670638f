import Foundation
import RedisCostCore
import RedisCostKeyspace
import RedisCostTable
import RedisCostAnalysis
import RedisCostLive

/// Small helpers for markdown output. Every text that did not come from the tool itself goes
/// through `cell` (or `code`): a `|` or a line break never breaks a table or a list, and no
/// control character reaches the file or a terminal (`KeyText.printable`).
package enum Markdown {
    package static func cell(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "|": out += "\\|"
            case "\n", "\r", "\r\n": out += " "
            default: out.append(character)
            }
        }
        return KeyText.printable(out)
    }

    package static func code(_ text: String) -> String {
        text.isEmpty ? "" : "`" + cell(text).replacingOccurrences(of: "`", with: "'") + "`"
    }

    package static func table(header: [String], rows: [[String]], alignRight: Set<Int> = []) -> String {
        var out = "| " + header.joined(separator: " | ") + " |\n|"
        for index in header.indices { out += alignRight.contains(index) ? " ---: |" : " --- |" }
        out += "\n"
        for row in rows { out += "| " + row.map(cell).joined(separator: " | ") + " |\n" }
        return out
    }
}
