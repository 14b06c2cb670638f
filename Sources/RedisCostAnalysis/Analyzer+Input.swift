import RedisCostCore
import RedisCostFormats
import RedisCostKeyspace
import RedisCostTable
import RedisCostReplay

/// One entry point for any input: the reader is chosen by what the input is.
extension Analyzer {
    /// What the data set was when a MONITOR capture began.
    public enum Baseline {
        /// Not known: keys from before the capture have unknown sizes (unless sampled).
        case unknown
        /// The capture began on an empty server (`--baseline empty`).
        case empty
        /// A snapshot or AOF taken when the capture began.
        case files(AOFInput)

        /// `--baseline PATH`: `empty`, or an RDB/AOF opened as `Input` opens one.
        public static func open(_ path: String?) throws(InputError) -> Baseline {
            guard let path else { return .unknown }
            return path == "empty" ? .empty : .files(try AOFInput(path: path))
        }

        public var files: [String] {
            if case .files(let input) = self { return input.files }
            return []
        }
    }

    /// Analyses the input. A baseline only means something for a capture (an AOF or RDB
    /// starts from its own data); `progress` (done, total bytes) for the files Redis persists.
    public func run(_ input: Input, baseline: Baseline = .unknown, progress: ((Int, Int) -> Void)? = nil) throws(InputError) -> AnalysisResult {
        switch input {
        case .monitorCapture(let path):
            return try run(monitor: path, options: MonitorOptions(baseline))
        case .persistence(let files):
            return try run(files, progress: progress)
        }
    }
}
