import ArgumentParsing
import Foundation
import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis
import RedisCostLive
import RedisCostReport

// The thin executable: parse flags, call the library, print. Exit codes: 0 success,
// 1 an error in the input or from the server, 2 a usage error.
#if canImport(Glibc)
// Collections grow by reallocation. glibc raises its mmap threshold after each large free,
// after which freed growth buffers stay in the heap and inflate the resident set of a long
// replay; a fixed threshold returns every large block to the system when it is freed.
// (malloc.h is not part of Swift's Glibc module: declare mallopt; M_MMAP_THRESHOLD is -3.)
@_silgen_name("mallopt") func mallopt(_ parameter: Int32, _ value: Int32) -> Int32
_ = mallopt(-3, 256 * 1024)
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
exit(CLI.run(arguments))
