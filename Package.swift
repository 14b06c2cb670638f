// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "redis-cost",
    products: [
        .executable(name: "redis-cost", targets: ["redis-cost"]),
        .library(name: "RedisCost", targets: ["RedisCost"]),
    ],
    targets: [
        // Everything the tool knows and does; tests use it directly.
        .target(
            name: "RedisCost",
            // The replay's state lives in classes; the checks of dynamic exclusivity cost
            // ~5% of a replay and guard nothing the type system does not already.
            // Debug builds are optimised too: the tests run real servers at full speed (a
            // live MONITOR session must keep up with redis-benchmark) and replay real files.
            swiftSettings: [
                .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
                .unsafeFlags(["-O"], .when(configuration: .debug)),
            ],
            plugins: ["EmbedCommandTable"]
        ),
        // A small hand-written command-line parser (no third-party packages).
        .target(name: "ArgumentParsing"),
        // The thin executable: parses flags, calls the library, prints.
        .executableTarget(
            name: "redis-cost",
            dependencies: ["RedisCost", "ArgumentParsing"]
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
            dependencies: ["RedisCost", "ArgumentParsing"]
        ),
    ]
)
