// swift-tools-version:6.0
import PackageDescription

// The layers of the tool, each a target that sees only the ones below it:
//
//   RedisCostCore      vocabulary: Argv, KeySize, Cost, InputError, byte/number text, hashing
//   RedisCostKeyspace  the data-set model: keys, values, collections of element identities
//   RedisCostFormats   readers: RESP, AOF (+ manifest), RDB, MONITOR text; what an input is
//   RedisCostTable     the command table (Data/commands.json), cost formulas, the time model
//   RedisCostReplay    applies a call's effect to the keyspace model
//   RedisCostAnalysis  the analysis of calls: costing, aggregation, findings and their rules
//   RedisCostLive      connections to a server: MONITOR sessions, sampling, audit, calibrate
//   RedisCostReport    markdown and JSON writers
//   redis-cost         the CLI: parses flags, calls the library, prints
//
// docs/ARCHITECTURE.md draws it.

// The replay's state lives in classes; the checks of dynamic exclusivity cost ~5% of a
// replay and guard nothing the type system does not already. Debug builds are optimised
// too: the tests run real servers at full speed (a live MONITOR session must keep up with
// redis-benchmark) and replay real files. Across layers the hot path (reader → replay →
// cost) calls small functions of other modules: cross-module optimisation lets them inline.
let layerSettings: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked", "-cross-module-optimization"], .when(configuration: .release)),
    .unsafeFlags(["-O", "-cross-module-optimization"], .when(configuration: .debug)),
]

func layer(_ name: String, _ dependencies: [Target.Dependency], plugins: [Target.PluginUsage] = []) -> Target {
    .target(name: name, dependencies: dependencies, swiftSettings: layerSettings, plugins: plugins)
}

let layers = ["RedisCostCore", "RedisCostKeyspace", "RedisCostFormats", "RedisCostTable", "RedisCostReplay",
              "RedisCostAnalysis", "RedisCostLive", "RedisCostReport"]

let package = Package(
    name: "redis-cost",
    products: [
        .executable(name: "redis-cost", targets: ["redis-cost"]),
        .library(name: "RedisCost", targets: layers),
    ],
    targets: [
        layer("RedisCostCore", []),
        layer("RedisCostKeyspace", ["RedisCostCore"]),
        layer("RedisCostFormats", ["RedisCostCore", "RedisCostKeyspace"]),
        layer("RedisCostTable", ["RedisCostCore", "RedisCostFormats"], plugins: ["EmbedCommandTable"]),
        layer("RedisCostReplay", ["RedisCostCore", "RedisCostKeyspace", "RedisCostFormats", "RedisCostTable"]),
        layer("RedisCostAnalysis", ["RedisCostCore", "RedisCostKeyspace", "RedisCostFormats", "RedisCostTable", "RedisCostReplay"]),
        layer("RedisCostLive", ["RedisCostCore", "RedisCostKeyspace", "RedisCostFormats", "RedisCostTable", "RedisCostReplay", "RedisCostAnalysis"]),
        layer("RedisCostReport", ["RedisCostCore", "RedisCostKeyspace", "RedisCostTable", "RedisCostAnalysis", "RedisCostLive"]),
        // A small hand-written command-line parser (no third-party packages).
        .target(name: "ArgumentParsing"),
        // The thin executable: parses flags, calls the library, prints.
        .executableTarget(
            name: "redis-cost",
            dependencies: ["ArgumentParsing"] + layers.map { .target(name: $0) }
        ),
        // Build-time helper: turns Data/commands.json into a Swift source file so the
        // release binary carries its table and works when copied anywhere.
        .executableTarget(name: "EmbedData", path: "Sources/EmbedData"),
        .plugin(
            name: "EmbedCommandTable",
            capability: .buildTool(),
            dependencies: ["EmbedData"]
        ),
        .testTarget(
            name: "RedisCostTests",
            dependencies: ["ArgumentParsing"] + layers.map { .target(name: $0) }
        ),
    ]
)
