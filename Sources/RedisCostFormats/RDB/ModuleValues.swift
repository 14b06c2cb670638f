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
    case double
    case string
}

extension ByteCursor {
    /// Reads a module opcode stream up to its RDB_MODULE_OPCODE_EOF (rdb.c,
    /// rdbLoadCheckModuleValue), handing each item to `body`.
    package mutating func moduleItems(_ type: ModuleTypeID, _ body: (Int, ModuleItem) -> Void = { _, _ in }) throws(InputError) {
        var index = 0
        while true {
            let at = offset
            let item: ModuleItem
            switch try length("a module opcode of \(type.name)") {
            case 0: return
            case 1: item = .signed(try unsigned("a module integer of \(type.name)"))
            case 2: item = .unsigned(try unsigned("a module integer of \(type.name)"))
            case 3: try skip(4, "a module float of \(type.name)"); item = .float
            case 4: try skip(8, "a module double of \(type.name)"); item = .double
            case 5: try skipString("a module string of \(type.name)"); item = .string
            case let op: throw fail("unknown module opcode \(op) in a value of \(type.name)", at: at)
            }
            body(index, item)
            index += 1
        }
    }
}

/// Where a module type's value holds the count its size command reports, as the module
/// saves it (an unsigned item at a fixed position from a given encoding version on). Each
/// entry is checked against what the server reports for a file it wrote
/// (Tests/Fixtures/modules-redis-8.2.3).
package struct ModuleElementCount: Sendable {
    /// The item's position in the value's opcode stream.
    package var item: Int
    package var fromEncodingVersion: Int

    package static let byType: [String: ModuleElementCount] = [
        // VCARD: vset.c's VectorSetRdbSave saves the dimension, then the node count.
        "vectorset": .init(item: 1, fromEncodingVersion: 0),
        // TS.INFO totalSamples: RedisTimeSeries's series_rdb_save saves the key name,
        // retention, chunk size, options, last timestamp, last value (a double), then the
        // sample count; encoding versions before TS_SIZE_RDB_VER (2) had none.
        "TSDB-TYPE": .init(item: 6, fromEncodingVersion: 2),
        // BF.CARD: RedisBloom's scalable filter saves its item count first.
        "MBbloom--": .init(item: 0, fromEncodingVersion: 0),
    ]
}

extension RDBValueDecoder {
    // MARK: RDB_TYPE_MODULE_2: the type's name from its id, its opcode stream walked

    package static func module(_ c: inout ByteCursor) throws(InputError) -> Decoded {
        let type = ModuleTypeID(try c.unsigned("a module type id"))
        let counted = ModuleElementCount.byType[type.name].flatMap { $0.fromEncodingVersion <= type.encodingVersion ? $0.item : nil }
        var size: Int?
        try c.moduleItems(type) { index, item in
            // A count beyond Int.max is not one: the size stays unknown.
            if index == counted, case .unsigned(let n) = item, n <= UInt64(Int.max) { size = Int(n) }
        }
        return Decoded(value: .opaque(type: type.name, size: size, members: nil), encoding: "module")
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
