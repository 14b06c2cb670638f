import RedisCostCore
import RedisCostFormats

/// What a command means to the analysis that neither `COMMAND INFO` (flags, key specs) nor
/// `COMMAND DOCS` (group) says: that it reads a whole collection, begins a transaction, changes
/// its client's subscriptions… Hand-written in `Data/commands.json` as an entry's `"semantics"`
/// object and kept by every refresh, like the formula; Data/README.md lists the vocabulary.
/// Rules and the analysis choose the calls they act on by these properties, decided once per
/// table entry, never by command names.
public struct CommandSemantics: Sendable, Equatable {
    /// How the call reads the collections at its keys.
    public enum Reads: String, Sendable, CaseIterable {
        /// Returns every element of its key (HGETALL, SMEMBERS; LRANGE 0 -1 with `range`).
        case all
        /// Walks a list from the nearer end to a position or a value (LINDEX, LINSERT, LREM).
        case walk
        /// Walks several collections to combine them: intersection, union, difference.
        case combine
        /// Runs a query over a search index (FT.SEARCH, FT.AGGREGATE): the query is the
        /// argument after the index, and `*` matches every document.
        case search
        /// Returns a JSON document at the paths after its key: all of it when no path, or
        /// only the root, is given (JSON.GET).
        case document
        /// A nearest-neighbour search of a vector set (VSIM): its work grows with the results
        /// asked for (COUNT) and the candidates explored (EF).
        case nearest
    }

    /// How a write relates to the previous values of its keys (what a capture without a
    /// baseline can still conclude about them).
    public enum Write: String, Sendable, CaseIterable {
        /// Adds to or changes a key and never removes it (pushes, adds, increments).
        case adds
        /// The result does not depend on the previous value.
        case replaces
        /// Removes its keys.
        case deletes
        /// Changes no key's size or type (stream consumer groups, hash-field TTLs, vector-set
        /// attributes, the function library): a replay has nothing to apply.
        case keepsSizes
    }

    public enum Flush: String, Sendable, CaseIterable { case all, database }

    /// When a call gives its key a time to live.
    public enum Expiry: Sendable, Equatable {
        case always
        /// Only with one of these options (`SET k v EX 60`).
        case withOption([String])
    }

    public enum Transaction: String, Sendable, CaseIterable {
        /// MULTI: the calls that follow are queued.
        case begin
        /// EXEC: runs the queued calls; its cost is theirs.
        case run
        /// DISCARD: drops them.
        case discard
    }

    public enum SubscriptionChange: String, Sendable, CaseIterable {
        case subscribe, unsubscribe
        /// Drops every subscription of the client (RESET).
        case reset
    }

    public enum SubscriptionSpace: String, Sendable, CaseIterable { case channel, pattern, shard }

    /// Where a script call names its script.
    public enum Script: Sendable, Equatable {
        /// The source of the script it runs, at this argument (EVAL).
        case body(Int)
        /// The source of a script it compiles and stores without running it (SCRIPT LOAD).
        case load(Int)
        /// The SHA-1 digest of a loaded script (EVALSHA).
        case sha1(Int)
        /// A library function's name (FCALL).
        case function(Int)
    }

    /// The size of a key of one type, as this O(1) command reads it: what a live sampler sends
    /// after `TYPE` (`STRLEN` of a string, `TS.INFO`'s `totalSamples` of a time series).
    public struct Measure: Sendable, Equatable {
        public enum Unit: String, Sendable, CaseIterable {
            /// Elements of a collection, items of a sketch, samples of a series.
            case elements
            /// Bytes of a string.
            case bytes
        }

        public enum Reply: Sendable, Equatable {
            /// An integer (`STRLEN`, `BF.CARD`, `VCARD`).
            case integer
            /// The integer after this name in a map reply, or in RESP2's flat
            /// `[name, value, name, value, …]` array (`TS.INFO` `totalSamples`).
            case field(String)
            /// An array with one integer or nil per value a JSONPath argument selects
            /// (`JSON.OBJLEN key $`): nil when the value is not of the kind the command
            /// measures. Every command measuring the type is sent; the one answering an integer
            /// gives the size, and all nil leaves it unknown (a JSON scalar).
            case perPath
        }

        /// The type as `TYPE` names it (`string`, `ReJSON-RL`, `TSDB-TYPE`).
        public var type: String
        /// Arguments after the key (`$`).
        public var arguments: [String]
        public var reply: Reply
        public var unit: Unit

        public init(type: String, arguments: [String] = [], reply: Reply = .integer, unit: Unit = .elements) {
            self.type = type
            self.arguments = arguments
            self.reply = reply
            self.unit = unit
        }
    }

    public var reads: Reads?
    /// With `reads: all`: the call reads everything only when the inclusive index range
    /// argv[start]…argv[stop] (negative indices from the end) covers the collection.
    public var range: (start: Int, stop: Int)?
    /// With `reads: all`: bounds at argv[start] and argv[stop] — IDs (XRANGE), timestamps
    /// (TS.RANGE), scores (ZRANGEBYSCORE) or members (ZRANGEBYLEX); the read covers
    /// everything only when both are open ends: `-` and `+`, or `-inf` and `+inf` (either order).
    public var span: (start: Int, stop: Int)?
    /// argv[index] names a search index (RediSearch). The server declares it as the command's
    /// key so that a cluster routes the call, but it is no key of the data set: it is not
    /// sized, nor counted among hot keys and patterns.
    public var index: Int?
    /// With `reads: all`: options that make the read a page (`XRANGE … COUNT n`), searched
    /// after the first key.
    public var pagedBy: [String]
    public var write: Write?
    /// Frees the values it removes in a background thread (UNLINK), not inside the call.
    public var freesInBackground: Bool
    public var flushes: Flush?
    public var expires: Expiry?
    public var transaction: Transaction?
    public var subscription: SubscriptionChange?
    /// The space a subscribe or unsubscribe changes.
    public var space: SubscriptionSpace?
    public var script: Script?
    /// The command reads the size of keys of a type (its first argument is the key).
    public var measures: Measure?

    public init(
        reads: Reads? = nil, range: (start: Int, stop: Int)? = nil, span: (start: Int, stop: Int)? = nil, index: Int? = nil, pagedBy: [String] = [], write: Write? = nil,
        freesInBackground: Bool = false, flushes: Flush? = nil, expires: Expiry? = nil, transaction: Transaction? = nil,
        subscription: SubscriptionChange? = nil, space: SubscriptionSpace? = nil, script: Script? = nil, measures: Measure? = nil
    ) {
        self.reads = reads
        self.range = range
        self.span = span
        self.index = index
        self.pagedBy = pagedBy
        self.write = write
        self.freesInBackground = freesInBackground
        self.flushes = flushes
        self.expires = expires
        self.transaction = transaction
        self.subscription = subscription
        self.space = space
        self.script = script
        self.measures = measures
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.reads == b.reads && a.range?.start == b.range?.start && a.range?.stop == b.range?.stop
            && a.span?.start == b.span?.start && a.span?.stop == b.span?.stop && a.index == b.index && a.pagedBy == b.pagedBy
            && a.write == b.write && a.freesInBackground == b.freesInBackground && a.flushes == b.flushes
            && a.expires == b.expires && a.transaction == b.transaction && a.subscription == b.subscription
            && a.space == b.space && a.script == b.script && a.measures == b.measures
    }

    public var isEmpty: Bool { self == CommandSemantics() }

    /// A write that adds to or replaces its keys: one missing before the call is created by it.
    public var createsKeys: Bool { write == .adds || write == .replaces }

    /// A read whose reply carries the elements it walks (`reads: all`): its bytes grow with
    /// the elements' (`TimeModel.elementBytes`).
    public var repliesElements: Bool { reads == .all }
}

extension CommandSemantics {
    /// The `"semantics"` object of an entry as the table file holds it, read with `Decodable`:
    /// `expires` is `true` or a list of options, `script` one `{kind: argument}` pair. The
    /// names of all its fields are kept, so that an unknown one is refused.
    package struct Document: Decodable, Sendable {
        /// `"measures": {"type": T, "arguments": […], "reply": "integer" | "perPath" | {"field": F}, "unit": U}`.
        package struct MeasureDocument: Decodable, Sendable {
            package enum ReplyValue: Decodable, Sendable {
                case word(String)
                case field([String: String])
                package init(from decoder: any Decoder) throws {
                    let container = try decoder.singleValueContainer()
                    if let word = try? container.decode(String.self) { self = .word(word) } else { self = .field(try container.decode([String: String].self)) }
                }
            }
            package var type: String
            package var arguments: [String]?
            package var reply: ReplyValue?
            package var unit: String?
            package var fieldNames: [String] = []

            package init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: AnyKey.self)
                fieldNames = container.allKeys.map(\.stringValue)
                type = try container.decode(String.self, forKey: AnyKey(stringValue: "type"))
                arguments = try container.decodeIfPresent([String].self, forKey: AnyKey(stringValue: "arguments"))
                reply = try container.decodeIfPresent(ReplyValue.self, forKey: AnyKey(stringValue: "reply"))
                unit = try container.decodeIfPresent(String.self, forKey: AnyKey(stringValue: "unit"))
            }
        }

        package enum ExpiresValue: Decodable, Sendable {
            case flag(Bool)
            case options([String])
            package init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let flag = try? container.decode(Bool.self) { self = .flag(flag) } else { self = .options(try container.decode([String].self)) }
            }
        }
        package var reads, write, frees, flushes, transaction, subscription, space: String?
        package var range, span: [Int]?
        package var index: Int?
        package var pagedBy: [String]?
        package var expires: ExpiresValue?
        package var script: [String: Int]?
        package var measures: MeasureDocument?
        package var fieldNames: [String] = []

        fileprivate struct AnyKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: AnyKey.self)
            func text(_ name: String) throws -> String? { try container.decodeIfPresent(String.self, forKey: AnyKey(stringValue: name)) }
            fieldNames = container.allKeys.map(\.stringValue)
            reads = try text("reads")
            write = try text("write")
            frees = try text("frees")
            flushes = try text("flushes")
            transaction = try text("transaction")
            subscription = try text("subscription")
            space = try text("space")
            range = try container.decodeIfPresent([Int].self, forKey: AnyKey(stringValue: "range"))
            span = try container.decodeIfPresent([Int].self, forKey: AnyKey(stringValue: "span"))
            index = try container.decodeIfPresent(Int.self, forKey: AnyKey(stringValue: "index"))
            pagedBy = try container.decodeIfPresent([String].self, forKey: AnyKey(stringValue: "pagedBy"))
            expires = try container.decodeIfPresent(ExpiresValue.self, forKey: AnyKey(stringValue: "expires"))
            script = try container.decodeIfPresent([String: Int].self, forKey: AnyKey(stringValue: "script"))
            measures = try container.decodeIfPresent(MeasureDocument.self, forKey: AnyKey(stringValue: "measures"))
        }
    }

    /// Reads the `"semantics"` object of an entry; an unknown field or value is an error, so a
    /// typo in the table cannot silently switch a rule off.
    package init(_ document: Document, where location: String) throws(CommandTableJSON.FormatError) {
        func fail(_ detail: String) -> CommandTableJSON.FormatError {
            CommandTableJSON.FormatError(source: location, detail: "semantics: \(detail)")
        }
        func word<T: RawRepresentable & CaseIterable>(_ key: String, _ value: String?, _: T.Type) throws(CommandTableJSON.FormatError) -> T?
        where T.RawValue == String {
            guard let value else { return nil }
            guard let word = T(rawValue: value) else {
                throw fail("\(key) is one of \(T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
            }
            return word
        }
        let known: Set<String> = ["reads", "range", "span", "index", "pagedBy", "write", "frees", "flushes", "expires", "transaction",
                                  "subscription", "space", "script", "measures"]
        if let unknown = document.fieldNames.sorted().first(where: { !known.contains($0) }) { throw fail("unknown field \"\(unknown)\"") }
        self.init()
        reads = try word("reads", document.reads, Reads.self)
        if let pair = document.range {
            guard pair.count == 2 else { throw fail("range is two argument indices [start, stop]") }
            range = (pair[0], pair[1])
        }
        if let pair = document.span {
            guard pair.count == 2 else { throw fail("span is two argument indices [start, stop]") }
            span = (pair[0], pair[1])
        }
        if let at = document.index {
            guard at > 0 else { throw fail("index is an argument index after the command name") }
            index = at
        }
        if let tokens = document.pagedBy { pagedBy = tokens }
        write = try word("write", document.write, Write.self)
        if let frees = document.frees {
            guard frees == "background" else { throw fail("frees is \"background\"") }
            freesInBackground = true
        }
        flushes = try word("flushes", document.flushes, Flush.self)
        switch document.expires {
        case nil: break
        case .flag(true): expires = .always
        case .options(let tokens) where !tokens.isEmpty: expires = .withOption(tokens)
        default: throw fail("expires is true or a list of option names")
        }
        transaction = try word("transaction", document.transaction, Transaction.self)
        subscription = try word("subscription", document.subscription, SubscriptionChange.self)
        space = try word("space", document.space, SubscriptionSpace.self)
        if subscription != nil, subscription != .reset, space == nil { throw fail("a subscribe or unsubscribe needs a space") }
        if let object = document.script {
            guard object.count == 1, case let (kind, at)? = object.first else {
                throw fail("script is {\"body\": i}, {\"load\": i}, {\"sha1\": i} or {\"function\": i}")
            }
            switch kind {
            case "body": script = .body(at)
            case "load": script = .load(at)
            case "sha1": script = .sha1(at)
            case "function": script = .function(at)
            default: throw fail("script is {\"body\": i}, {\"load\": i}, {\"sha1\": i} or {\"function\": i}")
            }
        }
        if let object = document.measures {
            let fields: Set<String> = ["type", "arguments", "reply", "unit"]
            if let unknown = object.fieldNames.sorted().first(where: { !fields.contains($0) }) { throw fail("unknown field \"measures.\(unknown)\"") }
            guard !object.type.isEmpty else { throw fail("measures.type is the type TYPE names") }
            var measure = Measure(type: object.type, arguments: object.arguments ?? [])
            switch object.reply {
            case nil, .word("integer"): break
            case .word("perPath"): measure.reply = .perPath
            case .field(let pair) where pair.count == 1 && pair["field"]?.isEmpty == false: measure.reply = .field(pair["field"]!)
            default: throw fail("measures.reply is \"integer\", \"perPath\" or {\"field\": name}")
            }
            measure.unit = try word("measures.unit", object.unit, Measure.Unit.self) ?? .elements
            measures = measure
        }
    }

    /// One line, fields in a fixed order, as the table file holds it (`table --format json`
    /// shows it too).
    public var json: String {
        var fields: [String] = []
        let quote = CommandTableJSON.quote
        if let reads { fields.append("\"reads\": \(quote(reads.rawValue))") }
        if let range { fields.append("\"range\": [\(range.start), \(range.stop)]") }
        if let span { fields.append("\"span\": [\(span.start), \(span.stop)]") }
        if let index { fields.append("\"index\": \(index)") }
        if !pagedBy.isEmpty { fields.append("\"pagedBy\": \(CommandTableJSON.list(pagedBy))") }
        if let write { fields.append("\"write\": \(quote(write.rawValue))") }
        if freesInBackground { fields.append("\"frees\": \"background\"") }
        if let flushes { fields.append("\"flushes\": \(quote(flushes.rawValue))") }
        switch expires {
        case .always: fields.append("\"expires\": true")
        case .withOption(let tokens): fields.append("\"expires\": \(CommandTableJSON.list(tokens))")
        case nil: break
        }
        if let transaction { fields.append("\"transaction\": \(quote(transaction.rawValue))") }
        if let subscription { fields.append("\"subscription\": \(quote(subscription.rawValue))") }
        if let space { fields.append("\"space\": \(quote(space.rawValue))") }
        switch script {
        case .body(let at): fields.append("\"script\": {\"body\": \(at)}")
        case .load(let at): fields.append("\"script\": {\"load\": \(at)}")
        case .sha1(let at): fields.append("\"script\": {\"sha1\": \(at)}")
        case .function(let at): fields.append("\"script\": {\"function\": \(at)}")
        case nil: break
        }
        if let measures {
            var parts = ["\"type\": \(quote(measures.type))"]
            if !measures.arguments.isEmpty { parts.append("\"arguments\": \(CommandTableJSON.list(measures.arguments))") }
            switch measures.reply {
            case .integer: break
            case .perPath: parts.append("\"reply\": \"perPath\"")
            case .field(let name): parts.append("\"reply\": {\"field\": \(quote(name))}")
            }
            if measures.unit != .elements { parts.append("\"unit\": \(quote(measures.unit.rawValue))") }
            fields.append("\"measures\": {" + parts.joined(separator: ", ") + "}")
        }
        return "{" + fields.joined(separator: ", ") + "}"
    }
}
