import Foundation
import RedisCostCore
import RedisCostFormats

/// Turns element counts into estimated microseconds of server time: a fixed cost per call
/// plus a cost per element that depends on the data structure (walking a hash's dict is not
/// walking a list's nodes). The constants come from `redis-cost calibrate`, which measures
/// them on a live server (INFO commandstats' usec for probe calls on keys of known size).
public struct TimeModel: Sendable, Equatable {
    /// The classes elements are costed by, from the table's command groups, as `calibrate`
    /// measures them. (`script`, bytes compiled, keeps its default: measuring it would leave
    /// scripts in the user's script cache.)
    public static let classes = ["hash", "set", "zset", "list", "stream", "string", "keyspace"]

    public var perCall: Double
    /// Class → microseconds per element.
    public var perElement: [String: Double]
    /// How the constants were obtained, for the report.
    public var source: String

    public init(perCall: Double, perElement: [String: Double], source: String) {
        self.perCall = perCall
        self.perElement = perElement
        self.source = source
    }

    /// The medians of three runs of `redis-cost calibrate -n 15 --repeats 100` on Redis 7.0.15
    /// (Debian's package) on the 2-core x86-64 development machine, 2026-11-25; see README.
    public static let defaults = TimeModel(
        perCall: 1.56,
        perElement: ["hash": 0.164, "set": 0.080, "zset": 0.045, "list": 0.056, "stream": 0.312, "string": 0.0001, "keyspace": 0.059,
                     "script": scriptMicrosecondsPerByte],
        source: "defaults measured by redis-cost calibrate on Redis 7.0.15, 2-core x86-64 (2026-11-25)")

    /// SCRIPT LOAD and FUNCTION LOAD compile their body: their N is its length in bytes
    /// (COMMAND DOCS), priced by its own constant. INFO commandstats of SCRIPT LOAD on Redis
    /// 7.0.15 here: 1.6 KB in 90 µs, 16 KB in 0.92 ms (2026-12-02).
    package static let scriptMicrosecondsPerByte = 0.055

    /// Whether a class's N is elements of the data set. Bytes of a script compiled are not:
    /// they are priced in time and left out of the elements-touched totals.
    public static func countsElements(_ elementClass: String) -> Bool { elementClass != "script" }

    public static func elementClass(ofGroup group: String) -> String {
        switch group {
        case "hash": "hash"
        case "set": "set"
        case "sorted-set", "geo": "zset"
        case "list": "list"
        case "stream": "stream"
        case "string", "bitmap", "hyperloglog": "string"
        case "scripting": "script"
        default: "keyspace"
        }
    }

    public func microseconds(calls: Int, elements: Double, elementClass: String) -> Double {
        // A calibration file from before a class existed keeps the default for it.
        let rate = perElement[elementClass] ?? Self.defaults.perElement[elementClass] ?? perElement["keyspace"] ?? 0
        return Double(calls) * perCall + elements * rate
    }

    // MARK: - file form (what calibrate writes, what --constants reads)

    public struct FileError: Error, CustomStringConvertible {
        public var description: String
    }

    /// What calibrate writes and `--constants` reads.
    package struct File: Codable {
        package var perCallMicroseconds: Double
        package var perElementMicroseconds: [String: Double]
        package var source: String?
    }

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = (try? encoder.encode(File(perCallMicroseconds: perCall, perElementMicroseconds: perElement, source: source))) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    public init(file path: String) throws(FileError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw FileError(description: "\(path): cannot read the constants") }
        guard let file = try? JSONDecoder().decode(File.self, from: data) else {
            throw FileError(description: "\(path): not a constants file written by redis-cost calibrate (perCallMicroseconds, perElementMicroseconds)")
        }
        self.init(perCall: file.perCallMicroseconds, perElement: file.perElementMicroseconds,
                  source: (file.source ?? "constants") + " (from \(path))")
    }
}
