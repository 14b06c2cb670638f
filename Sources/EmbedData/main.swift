import Foundation

// usage: EmbedData INPUT.json OUTPUT.swift SYMBOL
// Writes `let SYMBOL: String = #"""…"""#` so the table travels inside the binary.
// A raw multi-line literal compiles quickly even for a few hundred kilobytes,
// unlike a byte-array literal.
let arguments = CommandLine.arguments
guard arguments.count == 4 else {
    FileHandle.standardError.write(Data("usage: EmbedData INPUT OUTPUT SYMBOL\n".utf8))
    exit(2)
}
let input = try String(contentsOfFile: arguments[1], encoding: .utf8)
var delimiter = "#"
while input.contains("\"\"\"" + delimiter) { delimiter += "#" }
let source = """
    // Generated at build time from \(URL(fileURLWithPath: arguments[1]).lastPathComponent). Do not edit.
    package let \(arguments[3]): String = \(delimiter)\"\"\"
    \(input)
    \"\"\"\(delimiter)

    """
try source.write(toFile: arguments[2], atomically: true, encoding: .utf8)
