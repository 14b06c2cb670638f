import Foundation
import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis
import RedisCostLive
import RedisCostReport

/// A key as a truth file or a server describes it.
struct KeyTruth: Equatable, CustomStringConvertible {
    var type: String
    var size: Int?
    var hasTTL: Bool
    var description: String { "\(type)/\(size.map(String.init) ?? "nil")\(hasTTL ? "/ttl" : "")" }
}

/// `{db: {hexkey: truth}}` from a final-state.json (or the "state" of an RDB truth file).
func loadTruth(_ url: URL) throws -> [String: [String: KeyTruth]] {
    struct Key: Decodable {
        var type: String
        var size: Int?
        var has_ttl: Bool?
    }
    struct Wrapped: Decodable { var state: [String: [String: Key]] }
    let data = try Data(contentsOf: url)
    let state = try (try? JSONDecoder().decode(Wrapped.self, from: data))?.state
        ?? JSONDecoder().decode([String: [String: Key]].self, from: data)
    return state.mapValues { keys in
        keys.mapValues { KeyTruth(type: $0.type, size: $0.size, hasTTL: $0.has_ttl ?? false) }
    }
}

/// Replays an AOF input and returns the state as `state` prints it, plus the approximate keys.
func replayState(_ path: String) throws -> (state: [String: [String: KeyTruth]], approximate: Set<String>, result: AnalysisResult) {
    let analyzer = Analyzer(table: try CommandTable.embedded())
    let result = try analyzer.run(try AOFInput(path: path))
    let (state, approximate) = modelState(analyzer.replayer.keyspace)
    return (state, displayNames(approximate), result)
}

/// Analyses a MONITOR capture of a server that started empty and returns the state its writes
/// leave, plus the approximate keys.
func captureState(_ path: String) throws -> (state: [String: [String: KeyTruth]], approximate: Set<String>, result: AnalysisResult) {
    let analyzer = Analyzer(table: try CommandTable.embedded())
    let result = try analyzer.run(monitor: path, options: .init(startsEmpty: true))
    let (state, approximate) = modelState(analyzer.replayer.keyspace)
    return (state, displayNames(approximate), result)
}

/// The display text of approximate keys given as `{db: {hexkey}}`.
func displayNames(_ approximate: [String: Set<String>]) -> Set<String> {
    Set(approximate.values.flatMap { $0 }.map { hex in KeyText.display(bytes(ofHex: hex)) })
}

/// The model's keys as a truth file describes them, and the approximate ones: `{db: {hexkey}}`.
func modelState(_ keyspace: Keyspace) -> (state: [String: [String: KeyTruth]], approximate: [String: Set<String>]) {
    var state: [String: [String: KeyTruth]] = [:]
    var approximate: [String: Set<String>] = [:]
    for db in keyspace.databaseNumbers {
        for id in keyspace.keys(in: db) {
            let hex = KeyText.hexString(keyspace.nameBytes(of: id))
            state[String(db), default: [:]][hex] = KeyTruth(
                type: keyspace[id].value.typeName, size: keyspace.size(of: id).count, hasTTL: keyspace.expireAt(id) != 0)
            if keyspace[id].approximate { approximate[String(db), default: []].insert(hex) }
        }
    }
    return (state, approximate)
}

func bytes(ofHex hex: String) -> [UInt8] {
    stride(from: 0, to: hex.count, by: 2).map { i -> UInt8 in
        let start = hex.index(hex.startIndex, offsetBy: i)
        return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)!
    }
}

/// Keys (as display text) whose truth differs from the replay, with both sides.
func differences(_ ours: [String: [String: KeyTruth]], _ truth: [String: [String: KeyTruth]]) -> [String: String] {
    var out: [String: String] = [:]
    for db in Set(ours.keys).union(truth.keys) {
        let a = ours[db] ?? [:], b = truth[db] ?? [:]
        for hex in Set(a.keys).union(b.keys) where a[hex] != b[hex] {
            out["\(db):\(KeyText.display(bytes(ofHex: hex)))"] = "ours \(a[hex]?.description ?? "missing"), server \(b[hex]?.description ?? "missing")"
        }
    }
    return out
}

/// Every key of a live server: TYPE and the O(1) size, with whether it has a TTL.
func serverState(_ server: TestServer) throws -> [String: [String: KeyTruth]] {
    var state: [String: [String: KeyTruth]] = [:]
    let table = try CommandTable.embedded()
    for db in 0..<16 {
        let connection = try server.connect(database: db)
        var cursor = "0"
        var keys: [[UInt8]] = []
        repeat {
            let reply = try connection.require(["SCAN", cursor, "COUNT", "1000"]).array!
            cursor = reply[0].text!
            for key in reply[1].array! { if case .bulk(let bytes) = key { keys.append(bytes) } }
        } while cursor != "0"
        let sampled = try connection.sample(keys: keys, table: table)
        let ttls = try connection.pipelineBytes(keys.map { [Array("PTTL".utf8), $0] }, label: "PTTL")
        for (index, key) in keys.enumerated() {
            state[String(db), default: [:]][KeyText.hexString(key)] = KeyTruth(
                type: sampled[index].type, size: sampled[index].size.count, hasTTL: (ttls[index].int ?? -1) > 0)
        }
    }
    return state
}
