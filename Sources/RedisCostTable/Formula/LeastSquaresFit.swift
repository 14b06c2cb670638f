/// A weighted least-squares fit with coefficients that are never negative (a time per call,
/// per element, per byte cannot be): what `calibrate` fits the time model with. Small
/// problems (a handful of features, tens of observations), so the normal equations solved by
/// Gaussian elimination with partial pivoting are enough; each column is scaled to a largest
/// value of 1 first, since features differ by six orders of magnitude (a call, bytes of a
/// value). A coefficient the unconstrained solution makes negative is fixed at 0 and the rest
/// refitted (an active-set loop, at most one pass per feature). The first feature is the
/// intercept-like one (1 per call).
package enum LeastSquaresFit {
    package struct Result: Sendable, Equatable {
        package var coefficients: [Double]
        /// The root mean square of (fitted − observed) / observed over the observations.
        package var relativeError: Double
    }

    /// Fits `targets ≈ rows · coefficients`, each observation weighted by 1 / target² (so the
    /// relative error is what is minimised: a 1 µs call and a 10 ms call count alike). Nil when
    /// there is nothing to fit (no rows, a non-positive or non-finite target, rows of another
    /// width). Features whose column is all zero get 0.
    package static func fit(rows: [[Double]], targets: [Double]) -> Result? {
        guard let width = rows.first?.count, width > 0, rows.count == targets.count,
              rows.allSatisfy({ $0.count == width && $0.allSatisfy { $0.isFinite && $0 >= 0 } }),
              targets.allSatisfy({ $0.isFinite && $0 > 0 }) else { return nil }
        var scale = [Double](repeating: 0, count: width)
        for row in rows { for j in 0..<width { scale[j] = max(scale[j], row[j]) } }
        // A feature in a fixed proportion to the first (calls) in every row cannot be told
        // apart from it: the first keeps the time, rather than an arbitrary split.
        var active = (0..<width).filter { j in
            guard scale[j] > 0 else { return false }
            guard j > 0 else { return true }
            let ratios = rows.compactMap { $0[0] > 0 ? $0[j] / $0[0] : nil }
            guard let low = ratios.min(), let high = ratios.max() else { return true }
            return high - low > 0.05 * high
        }
        var solution = [Double](repeating: 0, count: width)
        while !active.isEmpty {
            guard let beta = solve(rows: rows, targets: targets, columns: active, scale: scale) else { return nil }
            if let worst = beta.indices.filter({ beta[$0] < 0 }).min(by: { beta[$0] < beta[$1] }) {
                active.remove(at: worst)
                continue
            }
            solution = [Double](repeating: 0, count: width)
            for (k, j) in active.enumerated() { solution[j] = beta[k] / scale[j] }
            break
        }
        var sum = 0.0
        for (row, y) in zip(rows, targets) {
            let fitted = zip(row, solution).reduce(0.0) { $0 + $1.0 * $1.1 }
            sum += ((fitted - y) / y) * ((fitted - y) / y)
        }
        return Result(coefficients: solution, relativeError: (sum / Double(rows.count)).squareRoot())
    }

    /// The weighted normal equations over `columns` (scaled), solved; nil when singular.
    private static func solve(rows: [[Double]], targets: [Double], columns: [Int], scale: [Double]) -> [Double]? {
        let k = columns.count
        var a = [[Double]](repeating: [Double](repeating: 0, count: k + 1), count: k)
        for (row, y) in zip(rows, targets) {
            let w = 1 / (y * y)
            let x = columns.map { row[$0] / scale[$0] }
            for i in 0..<k {
                for j in 0..<k { a[i][j] += w * x[i] * x[j] }
                a[i][k] += w * x[i] * y
            }
        }
        // A trace-relative ridge keeps nearly collinear features (a call's bytes that grow
        // with its elements) from exploding into large coefficients of opposite signs.
        let ridge = 1e-13 * (0..<k).reduce(0.0) { $0 + a[$1][$1] }
        for i in 0..<k { a[i][i] += ridge }
        for col in 0..<k {
            guard let pivot = (col..<k).max(by: { abs(a[$0][col]) < abs(a[$1][col]) }), abs(a[pivot][col]) > 0 else { return nil }
            a.swapAt(col, pivot)
            for r in 0..<k where r != col {
                let f = a[r][col] / a[col][col]
                if f != 0 { for c in col...k { a[r][c] -= f * a[col][c] } }
            }
        }
        let beta = (0..<k).map { a[$0][k] / a[$0][$0] }
        return beta.allSatisfy(\.isFinite) ? beta : nil
    }
}
