import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// Sizes read from a live server for keys the model cannot know (they existed before the
/// session started). A sample is taken a moment after the calls that asked for it, and its
/// `TYPE`/`STRLEN`/… lines come back in the MONITOR stream at the exact point where the server
/// measured them: the model takes the sampled size there (`resync`), so from that point on the
/// key's size is the server's. Calls between the first touch and that point are costed with
/// the sample.
extension Analyzer {
    /// A sampled key's value for the model: a string of that length, or a collection whose
    /// size is known and whose members are not (writes to it make it approximate).
    package static func value(of sample: SampledKey) -> KeyValue? {
        switch (sample.type, sample.size) {
        case ("none", _): return nil
        case ("string", .bytes(let n)): return .string(length: n, integer: nil)
        case (let type, .elements(let n)): return .opaque(type: type, size: n, members: nil)
        case (let type, _): return .opaque(type: type, size: nil, members: nil)
        }
    }

    /// A sample has arrived (before the stream reaches it): calls on the key may use it.
    public func receive(_ sample: SampledKey, key: [UInt8], database: Int) {
        let identity = key.withUnsafeBytes { keyIdentity($0, database: database) }
        known.pendingSamples[identity] = sample
    }

    /// The stream has reached the point where the server measured the key: the model takes
    /// the measured size, unless it already agrees with it exactly.
    public func resync(_ sample: SampledKey, key: [UInt8], database: Int) {
        key.withUnsafeBytes { key in
            let identity = keyIdentity(key, database: database)
            known.pendingSamples[identity] = nil
            let saved = replayer.database
            replayer.database = database
            defer { replayer.database = saved }
            result.sampledKeys += 1
            guard let value = Self.value(of: sample) else {
                _ = replayer.delete(key)
                known.knownAbsent.insert(identity)
                return
            }
            known.knownAbsent.remove(identity)
            // A model that agrees keeps its contents: members it added to a key of unknown
            // size are a subset of the server's, so equal counts mean equal sets.
            if let id = replayer.lookup(key), replayer.keyspace[id].value.typeName == value.typeName,
               replayer.keyspace[id].value.size == value.size {
                replayer.keyspace[id].approximate = false
                return
            }
            replayer.store(key, value, keepTTL: true)
        }
    }

    /// A size read from the server for a capture file: the key's size before the capture, as
    /// far as today's server can tell. It enters the model, and later writes apply to it.
    package func adopt(_ sample: SampledKey?, key: UnsafeRawBufferPointer) -> KeySize {
        guard let sample else { return .unknown }
        result.sampledKeys += 1
        if let value = Self.value(of: sample) {
            replayer.store(key, value)
        } else {
            known.knownAbsent.insert(keyIdentity(key, database: replayer.database))
        }
        return sample.size
    }

    /// The server counted a channel's subscribers (the stream has not reached the count yet).
    public func receive(_ count: SubscriberCount) {
        count.channel.withUnsafeBytes { subscriptions?.receive(count.count, channel: $0, count.shard ? .shard : .channel) }
    }

    /// The stream has reached the point where the server counted these channels' subscribers.
    public func resync(_ counts: [SubscriberCount]) {
        for count in counts {
            count.channel.withUnsafeBytes { subscriptions?.resync(count.count, channel: $0, count.shard ? .shard : .channel) }
        }
    }

    public func receivePatternSubscriptions(_ n: Int) { subscriptions?.receivePatterns(n) }
    public func resyncPatternSubscriptions(_ n: Int) { subscriptions?.resyncPatterns(n) }

    /// `DBSIZE` of a database (or the keys of all databases, `database` nil) at a point of the session.
    public func receiveDatabaseSize(_ keys: Int, database: Int?) {
        if let database { known.sampledDatabaseSizes[database] = keys } else { known.sampledAllKeys = keys }
    }

    /// Whether a live session should ask the server for this key's size: the model cannot
    /// know it (absent without proof, or approximate) and no sample is waiting.
    package func needsSample(_ key: UnsafeRawBufferPointer, database: Int) -> Bool {
        let identity = keyIdentity(key, database: database)
        if known.pendingSamples[identity] != nil { return false }
        if let id = replayer.lookup(key, in: database) { return replayer.keyspace[id].approximate }
        return known.sizeOfAbsentKey(key, database: database) == .unknown
    }
}
