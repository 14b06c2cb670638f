import ArgumentParsing
import Foundation
import RedisCostCore
import RedisCostFormats
import RedisCostAnalysis
import RedisCostLive

extension AnalyzeCommand {
    /// `analyze` of one input per cluster node: every primary's MONITOR capture (merged by
    /// time, each with its baseline), or every node's RDB or AOF.
    static func analyzeNodes(_ paths: [String], options: Analyzer.Options, baselines: [String],
                             sample: (ConnectionOptions, Double)?, findings: FindingsEngine?) throws -> (AnalysisResult, [String]) {
        let table = try loadTable()
        let analyzer = Analyzer(table: table, options: options)
        analyzer.findingsEngine = findings
        CLI.keepUntilExit(analyzer)
        do {
            let inputs = try paths.map { (path) throws(InputError) in try Input.open(path) }
            let captures = inputs.filter(\.isMonitorCapture).count
            if captures == 0 {
                if !baselines.isEmpty { throw UsageError(command: "analyze", message: "--baseline is for MONITOR captures") }
                if sample != nil { throw UsageError(command: "analyze", message: "--sample is for MONITOR captures") }
                let persisted = inputs.compactMap { input -> AOFInput? in
                    if case .persistence(let files) = input { return files }
                    return nil
                }
                let progress = Progress.onTerminal(label: "replaying")
                defer { progress?.finish() }
                return (try analyzer.run(persistence: persisted, progress: progress?.update), inputs.flatMap(\.files))
            }
            guard captures == inputs.count else {
                throw UsageError(command: "analyze", message: "give one kind of input per node: MONITOR captures, or RDB/AOF files")
            }
            let names: [String?]
            switch baselines.count {
            case 0: names = Array(repeating: nil, count: paths.count)
            case 1 where baselines[0] == "empty": names = Array(repeating: "empty", count: paths.count)
            case paths.count: names = baselines
            default:
                throw UsageError(command: "analyze", message: "--baseline: give one per capture, in the same order (\(paths.count) captures, \(baselines.count) baselines), or one 'empty' for all")
            }
            if names.contains("empty"), names.contains(where: { $0 != "empty" }) {
                throw UsageError(command: "analyze", message: "--baseline: every capture needs the same kind of baseline (files for all, or 'empty' for all)")
            }
            let opened = try names.map { (name) throws(InputError) in try Analyzer.Baseline.open(name) }
            // --sample (no baselines then): one sampler for every node's keys, each read from
            // the node that owns it (MOVED/ASK followed).
            let sampler = try attachSampler(sample, to: analyzer)
            defer { sampler?.reportStop() }
            var result = try analyzer.run(monitors: paths, baselines: opened)
            sampler?.label(&result, model: options.timeModel)
            return (result, paths + opened.flatMap(\.files))
        } catch let error as InputError {
            throw CLIError(description: error.description)
        }
    }
}
