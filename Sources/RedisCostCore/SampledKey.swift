/// A key's type and size read from a live server with O(1) commands only.
public struct SampledKey: Sendable, Equatable {
    package init(type: String, size: KeySize) {
        self.type = type
        self.size = size
    }
    /// `string`, `list`, `set`, `zset`, `hash`, `stream`, `vectorset`, a module type, or `none`.
    public var type: String
    public var size: KeySize
}
