import RedisCostCore
import RedisCostKeyspace

/// A module type's 64-bit id (module.c, moduleTypeEncodeId): nine characters of the type's
/// name in 6 bits each, the first in the highest bits, then a 10-bit encoding version. Names
/// from g on (and digits, '-', '_') set the top bit, so an id is an unsigned 64-bit number
/// read with rdbLoadLen's encoding, never a length.
package struct ModuleTypeID: Sendable, Equatable {
    /// `TYPE`'s answer for a key of this type: "ReJSON-RL", "vectorset", "TSDB-TYPE".
    package var name: String
    /// The version the module wrote its value in (the id's low 10 bits, handed to rdb_load).
    package var encodingVersion: Int

    private static let characters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    package init(name: String, encodingVersion: Int) {
        self.name = name
        self.encodingVersion = encodingVersion
    }

    package init(_ id: UInt64) {
        encodingVersion = Int(id & 1023)
        var bits = id >> 10
        var name = [UInt8](repeating: 0, count: 9)
        for i in stride(from: 8, through: 0, by: -1) {
            name[i] = Self.characters[Int(bits & 63)]
            bits >>= 6
        }
        self.name = String(decoding: name, as: UTF8.self)
    }
}

/// One annotated item of a module's value or aux data (rdb.h's RDB_MODULE_OPCODE_*): with
/// RDB_TYPE_MODULE_2 every RedisModule_Save* call writes its opcode before its value, so the
/// value can be walked without the module.
package enum ModuleItem {
    /// RDB_MODULE_OPCODE_SINT: RedisModule_SaveSigned's bits (-1 is 0xFFFF_FFFF_FFFF_FFFF).
    case signed(UInt64)
    /// RDB_MODULE_OPCODE_UINT.
    case unsigned(UInt64)
    case float
    /// RDB_MODULE_OPCODE_DOUBLE: RedisModule_SaveDouble's 8 little-endian bytes.
    case double(Double)
    /// RDB_MODULE_OPCODE_STRING: its bytes for the one item the walk was asked to read (valid
    /// only during the call), nil for the others, which are skipped without decompressing.
    case string(UnsafeRawBufferPointer?)
}

extension ByteCursor {
    /// Reads a module opcode stream up to its RDB_MODULE_OPCODE_EOF (rdb.c,
    /// rdbLoadCheckModuleValue), handing each item to `body`; the string at position
    /// `readingString` is handed with its bytes.
    package mutating func moduleItems(_ type: ModuleTypeID, readingString wanted: Int? = nil,
                                      _ body: (Int, ModuleItem) -> Void = { _, _ in }) throws(InputError) {
        var index = 0
        while try moduleItem(type, index: index, readingString: index == wanted, body) { index += 1 }
    }

    /// One item of a module opcode stream; false at its RDB_MODULE_OPCODE_EOF.
    private mutating func moduleItem(_ type: ModuleTypeID, index: Int, readingString: Bool,
                                     _ body: (Int, ModuleItem) -> Void) throws(InputError) -> Bool {
        let at = offset
        switch try length("a module opcode of \(type.name)") {
        case 0: return false
        case 1: body(index, .signed(try unsigned("a module integer of \(type.name)")))
        case 2: body(index, .unsigned(try unsigned("a module integer of \(type.name)")))
        case 3: try skip(4, "a module float of \(type.name)"); body(index, .float)
        case 4: body(index, .double(Double(bitPattern: try littleEndian(UInt64.self, "a module double of \(type.name)"))))
        case 5 where readingString:
            try string("a module string of \(type.name)") { (raw) throws(InputError) -> Void in body(index, .string(raw)) }
        case 5: try skipString("a module string of \(type.name)"); body(index, .string(nil))
        case let op: throw fail("unknown module opcode \(op) in a value of \(type.name)", at: at)
        }
        return true
    }
}

/// Where a module type's value holds the count its size command reports, as the module
/// saves it, for the encoding versions whose layout is known. Each entry is checked against
/// what the server reports for a file it wrote (Tests/Fixtures/modules-redis-8.2.3, whose
/// truth.json holds the server's answers); a type or version not listed is walked and only
/// skipped: its size stays unknown.
package struct ModuleSizeReading: Sendable {
    package enum Source: Sendable {
        /// An unsigned item at this position.
        case unsigned(item: Int)
        /// The sum of two double items holding whole numbers.
        case sumOfDoubles(Int, Int)
        /// A string item holding a serialized JSON document: the members of its top-level
        /// object or array (a scalar has no such count).
        case jsonDocument(item: Int)
    }

    package var source: Source
    package var encodingVersions: ClosedRange<Int>
    /// The server's answer this is, for the report: "JSON.OBJLEN / JSON.ARRLEN".
    package var command: String

    /// Every version from `first` on: encoding versions are 10 bits (module.c's
    /// REDISMODULE_TYPE_ENCVER_BITS).
    private static func anyVersionFrom(_ first: Int) -> ClosedRange<Int> { first...1023 }

    package static let byType: [String: ModuleSizeReading] = [
        // VCARD: vset.c's VectorSetRdbSave saves the dimension, then the node count.
        "vectorset": .init(source: .unsigned(item: 1), encodingVersions: anyVersionFrom(0), command: "VCARD"),
        // TS.INFO totalSamples: RedisTimeSeries's series_rdb_save saves the key name,
        // retention, chunk size, options, last timestamp, last value (a double), then the
        // sample count; encoding versions before TS_SIZE_RDB_VER (2) had none.
        "TSDB-TYPE": .init(source: .unsigned(item: 6), encodingVersions: anyVersionFrom(2), command: "TS.INFO totalSamples"),
        // BF.CARD: RedisBloom's scalable filter saves its item count first.
        "MBbloom--": .init(source: .unsigned(item: 0), encodingVersions: anyVersionFrom(0), command: "BF.CARD"),
        // CF.INFO "Number of items inserted": RedisBloom's CFRdbSave (rebloom.c) saves the
        // filter count, bucket count, then numItems. CFRdbLoad refuses versions after
        // CF_MIN_EXPANSION_VERSION (4), and older ones were not checked.
        "MBbloomCF": .init(source: .unsigned(item: 2), encodingVersions: 4...4, command: "CF.INFO items inserted"),
        // CMS.INFO count: CMSRdbSave (rm_cms.c) saves width, depth, then the counter
        // (CMS_ENC_VER 0, the only version).
        "CMSk-TYPE": .init(source: .unsigned(item: 2), encodingVersions: 0...0, command: "CMS.INFO count"),
        // TDIGEST.INFO Observations, which the module computes as merged + unmerged weight:
        // TDigestRdbSave (rm_tdigest.c) saves compression, min, max (doubles), cap, merged
        // and unmerged node counts, total compressions (signed), then the two weights.
        "TDIS-TYPE": .init(source: .sumOfDoubles(7, 8), encodingVersions: 0...0, command: "TDIGEST.INFO Observations"),
        // TOPK.INFO k: TopKRdbSave (rm_topk.c) saves k first (TOPK_ENC_VER 0).
        "TopK-TYPE": .init(source: .unsigned(item: 0), encodingVersions: 0...0, command: "TOPK.INFO k"),
        // JSON.OBJLEN / JSON.ARRLEN of the root: RedisJSON's rdb_save (redisjson.rs) saves the
        // document as one string of serde_json text; version 3 is what 2.x writes (version 2
        // followed it with RediSearch aux items, 0 was a tree of items: not read).
        "ReJSON-RL": .init(source: .jsonDocument(item: 0), encodingVersions: 3...3, command: "JSON.OBJLEN / JSON.ARRLEN"),
    ]

    /// The reading for a value of `type`, if its encoding version is one whose layout is known.
    package static func of(_ type: ModuleTypeID) -> ModuleSizeReading? {
        byType[type.name].flatMap { $0.encodingVersions.contains(type.encodingVersion) ? $0 : nil }
    }

    /// The string item the reading needs the bytes of.
    var stringItem: Int? {
        if case .jsonDocument(let item) = source { return item }
        return nil
    }
}

/// The count (and a JSON document's length) collected from a value's items as they pass.
struct ModuleSizeCollector {
    let source: ModuleSizeReading.Source?
    var size: Int?
    /// A JSON document read from its text.
    var document: JSONDocument?
    private var firstWeight: Double?

    init(_ source: ModuleSizeReading.Source?) { self.source = source }

    mutating func take(_ index: Int, _ item: ModuleItem) {
        switch (source, item) {
        // A count beyond Int.max is not one: the size stays unknown.
        case (.unsigned(let at)?, .unsigned(let n)) where index == at:
            if n <= UInt64(Int.max) { size = Int(n) }
        case (.sumOfDoubles(let first, _)?, .double(let w)) where index == first:
            firstWeight = w
        case (.sumOfDoubles(_, let second)?, .double(let w)) where index == second:
            size = firstWeight.flatMap { Self.wholeCount($0 + w) }
        case (.jsonDocument(let at)?, .string(let raw?)) where index == at:
            document = JSONDocument(text: raw)
        default: break
        }
    }

    /// A weight sum as a count: finite, whole and exactly representable, else unknown.
    static func wholeCount(_ value: Double) -> Int? {
        guard value.isFinite, value >= 0, value <= 9_007_199_254_740_992, value == value.rounded(.towardZero) else { return nil }
        return Int(value)
    }
}

extension RDBValueDecoder {
    // MARK: RDB_TYPE_MODULE_2: the type's name from its id, its opcode stream walked

    package static func module(_ c: inout ByteCursor) throws(InputError) -> Decoded {
        let type = ModuleTypeID(try c.unsigned("a module type id"))
        let reading = ModuleSizeReading.of(type)
        var collector = ModuleSizeCollector(reading?.source)
        try c.moduleItems(type, readingString: reading?.stringItem) { collector.take($0, $1) }
        // "module" whether read or skipped: the loader keeps a module value of count 0.
        if let document = collector.document { return Decoded(value: .json(document), encoding: "module") }
        return Decoded(value: .opaque(type: type.name, size: collector.size, members: nil), encoding: "module")
    }

    // MARK: RDB_OPCODE_MODULE_AUX: module id, "when" (a UINT item), then the opcode stream

    package static func skipModuleAux(_ c: inout ByteCursor) throws(InputError) {
        let type = ModuleTypeID(try c.unsigned("a module id"))
        let at = c.offset
        guard try c.length("the module aux 'when' opcode of \(type.name)") == 2 else {
            throw c.fail("module aux data of \(type.name) without its 'when' (RDB_MODULE_OPCODE_UINT expected)", at: at)
        }
        _ = try c.unsigned("the module aux 'when' of \(type.name)")
        try c.moduleItems(type)
    }
}
