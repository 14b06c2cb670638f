import RedisCostCore
import RedisCostFormats

/// One command or subcommand of the table (`Data/commands.json`).
public struct CommandEntry: Sendable, Equatable {
    /// Upper case; subcommands as `CLIENT LIST`.
    public var name: String
    public var group: String
    public var since: String?
    /// Servers whose `since` differs from `since` (Valkey dates commands it added after the
    /// fork by its own versions: HEXPIRE is Redis 7.4.0 and Valkey 9.0.0).
    public var sinceVariants: [String: String]
    public var summary: String?
    /// The documented complexity exactly as the preferred server reports it (the newest
    /// Redis, then the newest Valkey, then the source trees' command JSON files).
    public var complexity: String?
    /// Servers whose string differs from `complexity` (`nil`: that server reports none).
    public var complexityVariants: [String: String?]
    /// Where `complexity` comes from when no server reports it: a module's documentation
    /// (`RedisJSON/RedisJSON commands.json`). `nil`: the servers in `servers` report it.
    public var complexitySource: String?
    /// Server ids (`redis-7.0.15`, `valkey-9.1.2`, `redis-source`) that report this entry.
    public var servers: [String]
    public var arity: Int?
    /// `COMMAND INFO` flags (`write`, `readonly`, `blocking`, `admin`, `noscript`, …).
    public var flags: [String]
    public var aclCategories: [String]
    public var keySpecs: [KeySpec]
    public var deprecatedSince: String?
    public var replacedBy: String?
    /// The cost formula (see Data/README.md); `nil` until a person writes one.
    public var formula: String?
    /// What the command means to rules and the analysis beyond its flags and key specs
    /// (`CommandSemantics`); hand-written, kept by every refresh.
    public var semantics: CommandSemantics

    public init(
        name: String, group: String, since: String? = nil, sinceVariants: [String: String] = [:], summary: String? = nil,
        complexity: String? = nil, complexityVariants: [String: String?] = [:], complexitySource: String? = nil, servers: [String] = [],
        arity: Int? = nil, flags: [String] = [], aclCategories: [String] = [], keySpecs: [KeySpec] = [],
        deprecatedSince: String? = nil, replacedBy: String? = nil, formula: String? = nil,
        semantics: CommandSemantics = CommandSemantics()
    ) {
        self.name = name
        self.group = group
        self.since = since
        self.sinceVariants = sinceVariants
        self.summary = summary
        self.complexity = complexity
        self.complexityVariants = complexityVariants
        self.complexitySource = complexitySource
        self.servers = servers
        self.arity = arity
        self.flags = flags
        self.aclCategories = aclCategories
        self.keySpecs = keySpecs
        self.deprecatedSince = deprecatedSince
        self.replacedBy = replacedBy
        self.formula = formula
        self.semantics = semantics
    }

    /// The complexity string `server` reports, or `nil` if it reports none / lacks the command.
    public func complexity(on server: String) -> String? {
        guard servers.contains(server) else { return nil }
        if let variant = complexityVariants[server] { return variant }
        return complexity
    }

    /// The version `server` documents the command since, or nil if it lacks the command.
    public func since(on server: String) -> String? {
        guard servers.contains(server) else { return nil }
        return sinceVariants[server] ?? since
    }

    public func hasFlag(_ flag: String) -> Bool { flags.contains(flag) }
    public var isWrite: Bool { hasFlag("write") }
    public var isBlocking: Bool { hasFlag("blocking") }
    public var isDeprecated: Bool { deprecatedSince != nil }

    /// `CLIENT LIST` → `CLIENT`; `GET` → `GET`.
    public var container: String? {
        guard let space = name.firstIndex(of: " ") else { return nil }
        return String(name[..<space])
    }
}
