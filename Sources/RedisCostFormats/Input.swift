import RedisCostCore
import RedisCostKeyspace

/// A path to analyse, opened as what its content says it is: a MONITOR capture, or files
/// Redis persists (an appendonlydir or its manifest, a single AOF with or without an RDB
/// preamble, an RDB snapshot), which `AOFInput` opens and checks. The errors are the
/// readers' own (file and byte offset).
public enum Input {
    case monitorCapture(path: String)
    case persistence(AOFInput)

    public static func open(_ path: String) throws(InputError) -> Input {
        switch InputKind.detect(path) {
        case .monitorCapture: .monitorCapture(path: path)
        case .aofOrRDB: .persistence(try AOFInput(path: path))
        }
    }

    /// Every file the input reads.
    public var files: [String] {
        switch self {
        case .monitorCapture(let path): [path]
        case .persistence(let files): files.files
        }
    }

    public var isMonitorCapture: Bool {
        if case .monitorCapture = self { return true }
        return false
    }
}
