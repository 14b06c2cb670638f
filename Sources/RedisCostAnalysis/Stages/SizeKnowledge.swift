import RedisCostCore
import RedisCostKeyspace

/// Stage 2, sizes before: what the analysis knows, beside the replay model, of the sizes of
/// keys the model does not hold exactly. An AOF or RDB, or a capture that began with the
/// server, shows every key: one absent from the model is absent. A capture without a baseline
/// does not: such a key may have existed before it began, so its size is unknown unless a
/// deletion or a flush proved it absent, or a live server measured it.
package struct SizeKnowledge {
    /// Whether a key absent from the model is known to be absent.
    package var absentKeysAreKnown = true
    /// Keys proved absent (deleted, or sampled as absent), by identity.
    package var knownAbsent: Set<UInt64> = []
    /// Databases flushed during the input: every key absent from the model is absent there.
    package var flushedDatabases: Set<Int> = []
    /// A live session's samples, by key identity, until the stream reaches the point where
    /// the server measured them (see Analyzer+Sampling.swift).
    package var pendingSamples: [UInt64: SampledKey] = [:]
    /// `DBSIZE` per database and the keys of all databases, read from a live server.
    package var sampledDatabaseSizes: [Int: Int] = [:]
    package var sampledAllKeys: Int?

    package init() {}

    /// The size of a key the model does not hold: none (`missing`) when it is known absent.
    package func sizeOfAbsentKey(_ key: UnsafeRawBufferPointer, database: Int) -> KeySize {
        if absentKeysAreKnown || flushedDatabases.contains(database)
            || knownAbsent.contains(keyIdentity(key, database: database)) { return .missing }
        return .unknown
    }

    /// A waiting sample's size for a key the model does not hold exactly. (The model takes the
    /// sample only where the stream shows it was measured: writes before that point are in
    /// the sample already.)
    package func sampledSize(_ key: UnsafeRawBufferPointer, database: Int) -> KeySize? {
        pendingSamples.isEmpty ? nil : pendingSamples[keyIdentity(key, database: database)]?.size
    }

    /// Keys in a database (`dbsize` in a formula), when known.
    package func databaseSize(_ keyspace: Keyspace, database: Int) -> Int? {
        absentKeysAreKnown ? keyspace.keyCount(in: database) : sampledDatabaseSizes[database]
    }

    /// Keys in all databases (`allkeys`), when known.
    package func allDatabasesSize(_ keyspace: Keyspace) -> Int? {
        absentKeysAreKnown ? keyspace.totalKeyCount : sampledAllKeys
    }

    /// FLUSHALL / FLUSHDB: every key absent from the model is absent in those databases.
    package mutating func flushed(database: Int?) {
        if let database {
            flushedDatabases.insert(database)
        } else {
            knownAbsent.removeAll()
            flushedDatabases = Set(0..<16).union(flushedDatabases)
        }
    }
}
