import RedisCostCore

/// What the model knows about one key's value: its type and enough of its contents for
/// every later write to change its size exactly.
public enum KeyValue: Sendable {
    /// Most keys are strings: 16 bytes, no allocation.
    case string(StringValue)
    indirect case list(IdentityList)
    case set(IdentitySet)
    case hash(IdentitySet)
    case zset(ScoredMembers)
    /// Redis 8 vector sets: the model keeps element identities (VCARD), not the vectors.
    case vectorset(IdentitySet)
    indirect case stream(StreamEntries)
    /// A RedisJSON document: its root's shape and length, not its contents.
    indirect case json(JSONDocument)
    /// A type the model does not track element by element (module types, a sampled key): its
    /// size as far as known, and the identities of its items where a module's count depends on
    /// them (BF.CARD counts an item once however often it is added).
    indirect case opaque(type: String, size: Int?, members: IdentitySet?)
    /// Stands in while an effect holds the real value (see Replayer.editList).
    case placeholder

    /// `length` nil: unknown (an HLL after PFADD, a value from a payload we cannot read).
    /// `integer`: the value when it is a canonical integer, so INCR/APPEND/SETRANGE stay exact.
    public static func string(length: Int?, integer: Int64?) -> KeyValue {
        .string(StringValue(length: length, integer: integer))
    }

    public var typeName: String {
        switch self {
        case .string: "string"
        case .placeholder: "none"
        case .list: "list"
        case .set: "set"
        case .hash: "hash"
        case .zset: "zset"
        case .vectorset: "vectorset"
        case .stream: "stream"
        case .json: "ReJSON-RL"
        case .opaque(let type, _, _): type
        }
    }

    /// The size a server reports: STRLEN, LLEN, SCARD, HLEN, ZCARD, XLEN, JSON.OBJLEN/ARRLEN.
    public var size: KeySize {
        switch self {
        case .string(let string): string.length.map { .bytes($0) } ?? .unknown
        case .placeholder: .unknown
        case .list(let list): .elements(list.count)
        case .set(let set), .hash(let set), .vectorset(let set): .elements(set.count)
        case .zset(let zset): .elements(zset.count)
        case .stream(let stream): .elements(stream.count)
        case .json(let document): document.count.map { .elements($0) } ?? .unknown
        case .opaque(_, let size, _): size.map { .elements($0) } ?? .unknown
        }
    }

    /// The arguments a write gives each element (a list's element, a set's member: 1; a
    /// hash's field and value, a sorted set's score and member: 2), what a snapshot's bytes
    /// per element are divided by to match `Keyspace.noteElementBytes`; nil for other types.
    package var argumentsPerElement: Int? {
        switch self {
        case .list, .set: 1
        case .hash, .zset: 2
        default: nil
        }
    }

    package var heapBytes: Int {
        switch self {
        case .string, .placeholder: 0
        case .opaque(_, _, let members): members?.heapBytes ?? 0
        case .list(let list): list.heapBytes
        case .set(let set), .hash(let set), .vectorset(let set): set.heapBytes
        case .zset(let zset): zset.heapBytes
        case .stream(let stream): stream.heapBytes
        case .json(let document): document.heapBytes
        }
    }
}

/// A string's length, and its value when that is a canonical integer, in 16 bytes.
public struct StringValue: Sendable, Equatable {
    private var integerValue: Int64
    private var storedLength: Int32
    private var hasInteger: Bool

    public init(length: Int?, integer: Int64?) {
        integerValue = integer ?? 0
        hasInteger = integer != nil
        // Redis strings are at most 512 MB; -1 means unknown.
        storedLength = length.map { Int32(clamping: $0) } ?? -1
    }

    public var length: Int? { storedLength < 0 ? nil : Int(storedLength) }
    public var integer: Int64? { hasInteger ? integerValue : nil }
}
