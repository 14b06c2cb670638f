import Foundation
import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable

/// Applies write commands to the keyspace so that the size of every key is known before
/// every call. Each effect lives with its type in `Effects/` and is registered by name.
public final class Replayer {
    public typealias Effect = @Sendable (Replayer, Argv) -> Void

    public let keyspace = Keyspace()
    public var database = 0
    /// The current time in Unix milliseconds (from `#TS:` annotations or MONITOR timestamps).
    public var nowMilliseconds: Int64 = 0
    /// A live server deletes a key whose TTL has passed when it is touched; an AOF records
    /// that deletion itself, so AOF replay leaves expiry to the file.
    public var expiresByClock = false
    /// Writes whose effect the model does not know, by command (their keys become approximate).
    public private(set) var unmodelledWrites: [String: Int] = [:]
    /// Collections the current write has emptied. Redis deletes an emptied key when the
    /// command ends, not when its last element leaves: LMOVE k k on a one-element list pops
    /// and pushes the same list, which keeps its identity and its TTL (t_list.c,
    /// lmoveGenericCommand deletes the source only if it is still empty after the push).
    private var emptied: [(id: Int32, db: Int)] = []

    package static let effects: [String: Effect] = {
        var all: [String: Effect] = [:]
        for group in [keyEffects, stringEffects, listEffects, setEffects, hashEffects, sortedSetEffects, streamEffects, vectorSetEffects, moduleEffects] {
            all.merge(group) { first, _ in first }
        }
        return all
    }()

    public init() {}

    /// The effect of a command by its table name, if the model knows one.
    public static func effect(for name: String) -> Effect? { effects[name] }

    /// Applies one write. `name` is the table name (`SET`, `XGROUP CREATE`); writes the table
    /// calls size-neutral (`"write": "keepsSizes"`) never come here.
    public func apply(_ name: String, _ argv: Argv, keyPositions: [Int]) {
        if let effect = Self.effects[name] {
            run(effect, argv)
            return
        }
        // An unknown write (a module command, a command newer than the model): its keys can
        // no longer be trusted.
        unmodelledWrites[name, default: 0] += 1
        for position in keyPositions where position < argv.count {
            if let id = lookup(argv[position]) { keyspace[id].approximate = true }
        }
    }

    /// Applies one write through its effect, then deletes the collections it left empty.
    @inline(__always)
    public func run(_ effect: Effect, _ argv: Argv) {
        effect(self, argv)
        guard !emptied.isEmpty else { return }
        for (id, db) in emptied where keyspace[id].live && keyspace.size(of: id) == .elements(0) {
            // An empty stream is a key (XDEL of its last entry keeps it).
            if case .stream = keyspace[id].value { continue }
            keyspace.delete(id, in: db)
        }
        emptied.removeAll(keepingCapacity: true)
    }

    /// Deletes every key whose TTL has passed by `nowMilliseconds` (the end of a replay by clock:
    /// the server would not show them either).
    public func expireKeys() {
        guard expiresByClock else { return }
        for db in keyspace.databaseNumbers {
            var expired: [Int32] = []
            keyspace.forEachKey(in: db) { id in
                let when = keyspace.expireAt(id)
                if when != 0, when <= nowMilliseconds { expired.append(id) }
            }
            for id in expired { keyspace.delete(id, in: db) }
        }
    }

    // MARK: - helpers for effects

    /// The key's record, honouring expiry when replaying by clock.
    public func lookup(_ key: UnsafeRawBufferPointer, in db: Int? = nil) -> Int32? {
        let db = db ?? database
        guard let id = keyspace.find(key, in: db) else { return nil }
        if expiresByClock, case let when = keyspace.expireAt(id), when != 0, when <= nowMilliseconds {
            keyspace.delete(id, in: db)
            return nil
        }
        return id
    }

    public func delete(_ key: UnsafeRawBufferPointer, in db: Int? = nil) -> Bool {
        guard let id = lookup(key, in: db) else { return false }
        keyspace.delete(id, in: db ?? database)
        return true
    }

    /// Sets a key's value, creating or overwriting it; `keepTTL` keeps an existing expiry.
    @discardableResult
    package func store(_ key: UnsafeRawBufferPointer, _ value: KeyValue, keepTTL: Bool = false, in db: Int? = nil) -> Int32 {
        let db = db ?? database
        if let id = lookup(key, in: db) {
            keyspace[id].value = value
            if !keepTTL { keyspace.setExpireAt(id, 0) }
            keyspace[id].approximate = false
            return id
        }
        return keyspace.create(key, in: db, value: value)
    }

    /// The kinds of value an effect may require.
    package enum Kind {
        case list, set, hash, zset, stream, vectorset

        package var empty: KeyValue {
            switch self {
            case .list: .list(IdentityList())
            case .set: .set(IdentitySet())
            case .hash: .hash(IdentitySet())
            case .zset: .zset(ScoredMembers())
            case .stream: .stream(StreamEntries())
            case .vectorset: .vectorset(IdentitySet())
            }
        }

        package func matches(_ value: KeyValue) -> Bool {
            switch (self, value) {
            case (.list, .list), (.set, .set), (.hash, .hash), (.zset, .zset), (.stream, .stream), (.vectorset, .vectorset): true
            default: false
            }
        }
    }

    /// Edits a collection in place. Missing: created when `create`, else nothing happens.
    /// Wrong type: nothing happens (the server answered WRONGTYPE). An emptied collection is
    /// deleted when the write ends, as Redis does (streams excepted).
    @discardableResult
    package func edit<R>(_ key: UnsafeRawBufferPointer, _ kind: Kind, create: Bool, in db: Int? = nil,
                 _ body: (inout KeyValue) -> R) -> R? {
        let db = db ?? database
        var id = lookup(key, in: db)
        if let existing = id {
            guard kind.matches(keyspace[existing].value) else {
                if case .opaque = keyspace[existing].value { keyspace[existing].approximate = true }
                return nil
            }
        } else {
            guard create else { return nil }
            id = keyspace.create(key, in: db, value: kind.empty)
        }
        let result = keyspace.modify(id!, body)
        if kind != .stream, keyspace.size(of: id!) == .elements(0) { emptied.append((id!, db)) }
        return result
    }

    // Typed edits: the collection is moved (consumed, not copied) out of its enum before
    // `body` mutates it, so it is uniquely referenced and changes in place (a second reference
    // would make Swift copy the whole collection on every push), and no reference is counted.
        @inline(__always)
    package func editTyped<C, R>(_ key: UnsafeRawBufferPointer, _ kind: Kind, create: Bool, extract: (consuming KeyValue) -> C?,
                         wrap: (consuming C) -> KeyValue, _ body: (inout C) -> R) -> R? {
        edit(key, kind, create: create) { value -> R? in
            guard var collection = extract(consume value) else { preconditionFailure("edit checks the kind of the value") }
            defer { value = wrap(collection) }
            return body(&collection)
        } ?? nil
    }

    @discardableResult
    package func editList<R>(_ key: UnsafeRawBufferPointer, create: Bool, _ body: (inout IdentityList) -> R) -> R? {
        editTyped(key, .list, create: create, extract: { if case .list(let c) = consume $0 { c } else { nil } }, wrap: { .list($0) }, body)
    }

    @discardableResult
    package func editSet<R>(_ key: UnsafeRawBufferPointer, create: Bool, _ body: (inout IdentitySet) -> R) -> R? {
        editTyped(key, .set, create: create, extract: { if case .set(let c) = consume $0 { c } else { nil } }, wrap: { .set($0) }, body)
    }

    @discardableResult
    package func editHash<R>(_ key: UnsafeRawBufferPointer, create: Bool, _ body: (inout IdentitySet) -> R) -> R? {
        editTyped(key, .hash, create: create, extract: { if case .hash(let c) = consume $0 { c } else { nil } }, wrap: { .hash($0) }, body)
    }

    @discardableResult
    package func editSortedSet<R>(_ key: UnsafeRawBufferPointer, create: Bool, _ body: (inout ScoredMembers) -> R) -> R? {
        editTyped(key, .zset, create: create, extract: { if case .zset(let c) = consume $0 { c } else { nil } }, wrap: { .zset($0) }, body)
    }

    @discardableResult
    package func editStream<R>(_ key: UnsafeRawBufferPointer, create: Bool, _ body: (inout StreamEntries) -> R) -> R? {
        editTyped(key, .stream, create: create, extract: { if case .stream(let c) = consume $0 { c } else { nil } }, wrap: { .stream($0) }, body)
    }

    @discardableResult
    package func editVectorSet<R>(_ key: UnsafeRawBufferPointer, create: Bool, _ body: (inout IdentitySet) -> R) -> R? {
        editTyped(key, .vectorset, create: create, extract: { if case .vectorset(let c) = consume $0 { c } else { nil } }, wrap: { .vectorset($0) }, body)
    }

    /// Whether a write may put a value of `kind` at `key`: it is missing or already of that kind
    /// (otherwise the server answers WRONGTYPE and nothing moves).
    package func accepts(_ key: UnsafeRawBufferPointer, _ kind: Kind) -> Bool {
        guard let id = lookup(key) else { return true }
        return kind.matches(keyspace[id].value)
    }

    /// The value of an existing key of the given kind (a copy: for reading sources).
    package func read(_ key: UnsafeRawBufferPointer, _ kind: Kind, in db: Int? = nil) -> KeyValue? {
        guard let id = lookup(key, in: db), kind.matches(keyspace[id].value) else { return nil }
        return keyspace[id].value
    }

    package func markApproximate(_ key: UnsafeRawBufferPointer) {
        if let id = lookup(key) { keyspace[id].approximate = true }
    }
}
