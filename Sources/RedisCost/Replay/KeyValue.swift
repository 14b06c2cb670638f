/// What the model knows about one key's value: its type and enough of its contents for
/// every later write to change its size exactly.
public enum KeyValue: Sendable {
    /// `length` nil: unknown (an HLL after PFADD, a value from a payload we cannot read).
    /// `integer`: the value when it is a canonical integer, so INCR/APPEND/SETRANGE stay exact.
    case string(length: Int?, integer: Int64?)
    case list(IdentityList)
    case set(IdentitySet)
    case hash(IdentitySet)
    case zset(ScoredMembers)
    case stream(StreamEntries)
    /// A type the model does not track (module types, vector sets); size as far as known.
    case opaque(type: String, size: Int?)

    public var typeName: String {
        switch self {
        case .string: "string"
        case .list: "list"
        case .set: "set"
        case .hash: "hash"
        case .zset: "zset"
        case .stream: "stream"
        case .opaque(let type, _): type
        }
    }

    /// The size a server reports: STRLEN, LLEN, SCARD, HLEN, ZCARD, XLEN.
    public var size: KeySize {
        switch self {
        case .string(let length, _): length.map { .bytes($0) } ?? .unknown
        case .list(let list): .elements(list.count)
        case .set(let set), .hash(let set): .elements(set.count)
        case .zset(let zset): .elements(zset.count)
        case .stream(let stream): .elements(stream.count)
        case .opaque(_, let size): size.map { .elements($0) } ?? .unknown
        }
    }

    var heapBytes: Int {
        switch self {
        case .string, .opaque: 0
        case .list(let list): list.heapBytes
        case .set(let set), .hash(let set): set.heapBytes
        case .zset(let zset): zset.heapBytes
        case .stream(let stream): stream.heapBytes
        }
    }
}
