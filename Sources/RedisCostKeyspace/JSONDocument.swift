import RedisCostCore

/// A RedisJSON document (`TYPE` ReJSON-RL) as far as its size goes: the shape of its root,
/// the root's length as JSON.OBJLEN or JSON.ARRLEN reports it, the length of its serialized
/// form when it was last written whole, and an object's member names, so that a write of one
/// member (`JSON.SET k $.name …`) is known to add it or not.
public struct JSONDocument: Sendable {
    /// nil when unknown (a sampled or loaded document whose root was not read).
    public var shape: JSONTopLevel.Shape?
    /// Members or elements of the root; nil when unknown, and for a scalar root (OBJLEN and
    /// ARRLEN refuse it).
    public var count: Int?
    /// Bytes of the serialized document; nil once a write changed it somewhere inside.
    public var bytes: Int?
    /// The root object's member names; nil when not known (then a member write makes the
    /// count approximate).
    public var members: IdentitySet?

    public init(shape: JSONTopLevel.Shape?, count: Int?, bytes: Int?, members: IdentitySet? = nil) {
        self.shape = shape
        self.count = count
        self.bytes = bytes
        self.members = members
    }

    /// The document a JSON text makes, or nil when the text is not one.
    public init?(text: UnsafeRawBufferPointer) {
        guard let root = JSONTopLevel.read(text) else { return nil }
        shape = root.shape
        count = root.shape == .scalar ? nil : root.count
        bytes = text.count
        // Repeated names: RedisJSON keeps the last, so the set's count is the member count.
        members = root.memberHashes.map { IdentitySet($0) }
        if let members, root.shape == .object { count = members.count }
    }

    package var heapBytes: Int { members?.heapBytes ?? 0 }
}
