import ArgumentParsing
import Foundation
import RedisCost

// The thin executable: parse flags, call the library, print. Exit codes: 0 success,
// 1 an error in the input or from the server, 2 a usage error.
let arguments = Array(CommandLine.arguments.dropFirst())
exit(CLI.run(arguments))
