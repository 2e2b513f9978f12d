public import Flowline
import FlowlineProtocol
import Foundation

/// Flink Tasks' 1-N-1 example: load stock price series in parallel, compute each one's standard deviation, then
/// the average of the standard deviations. The N is decided at run time: the first task spawns the fan-out and
/// the fan-in (Flink's `in_parallel(...).continue_with(compute_average)`) and completes with the average.
public struct FlinkStocks: Example {
    /// The stocks to load.
    public var stocks: [String]

    /// The example for `stocks`.
    public init(stocks: [String] = ["BT.L", "DAIGn.DE", "BP.L"]) { self.stocks = stocks }

    public var workflow: Workflow {
        Workflow(name: "timeseries_workflow", input: ["stocks": .array(stocks.map(JSON.string))]) {
            Step("timeseries_workflow")
        }
    }

    private struct Input: Decodable { var stocks: [String] }
    private struct Load: Decodable { var stock: String }

    public func register(on worker: Worker) {
        worker.register("timeseries_workflow") { task -> TaskOutcome in
            let stocks = try task.workflowInput(as: Input.self).stocks
            return .spawn(output: "average") {
                for stock in stocks {
                    Step("load-\(stock)", handler: "load_timeseries").input(["stock": .string(stock)]).retry(
                        maxAttempts: 3
                    )
                    Step("std-\(stock)", handler: "compute_std_dev").deps("load-\(stock)")
                }
                Step("average", handler: "compute_average").deps(stocks.map { "std-\($0)" })
            }
        }
        worker.register("load_timeseries") { task in Self.loadTimeseries(try task.input(as: Load.self).stock) }
        worker.register("compute_std_dev") { task in
            guard let prices = task.deps.values.first, task.deps.count == 1 else {
                throw TaskFailure(type: "bad_input", message: "compute_std_dev takes one series", retryable: false)
            }
            return Self.computeStdDev(try prices.decode(as: [Double].self))
        }
        worker.register("compute_average") { task in
            Self.computeAverage(try task.deps.values.map { try $0.decode(as: Double.self) })
        }
    }

    // The functions are plain functions, testable without a daemon, as in Flink Tasks.

    /// Loads the stock's price series from the market data system (here: 250 prices around 100, the same for the
    /// same stock every time).
    public static func loadTimeseries(_ stock: String) -> [Double] {
        var random = SeededGaussian(seed: stock)
        return (0..<250).map { _ in ((100 + random.next(sigma: 5)) * 100).rounded() / 100 }
    }

    /// The population standard deviation of `prices`.
    public static func computeStdDev(_ prices: [Double]) -> Double {
        let mean = computeAverage(prices)
        return (prices.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(prices.count)).squareRoot()
    }

    /// The mean of `values`.
    public static func computeAverage(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }

    public func check(_ record: WorkflowRecord, history: [HistoryEvent]) throws(ExampleFailure) -> [String] {
        guard record.state == "completed", let average = record.result?["timeseries_workflow"]?.doubleValue else {
            throw ExampleFailure("timeseries_workflow ended \(record.state) with result \(record.result ?? .null)")
        }
        // The same numbers, worked out here from the series the workers loaded.
        var stdDevs: [Double] = []
        for stock in stocks {
            guard let series = record.task("timeseries_workflow/load-\(stock)")?.result?.arrayValue else {
                throw ExampleFailure("no price series for \(stock)")
            }
            stdDevs.append(Self.computeStdDev(series.compactMap(\.doubleValue)))
        }
        let local = Self.computeAverage(stdDevs)
        guard abs(local - average) <= 1e-9 * max(1, abs(local)) else {
            throw ExampleFailure("average std dev \(average), but the loaded series give \(local)")
        }
        return ["average std dev: \(average) (local check: \(local))"]
    }
}

/// Normal deviates from a generator seeded by a string (FNV-1a into SplitMix64, then Box-Muller), so a stock's
/// series is the same on every worker and in every test.
struct SeededGaussian {
    private var state: UInt64

    init(seed: String) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in seed.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        state = hash
    }

    private mutating func nextUnit() -> Double {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        z ^= z >> 31
        return (Double(z >> 11) + 0.5) / Double(UInt64(1) << 53)  // in (0, 1)
    }

    mutating func next(sigma: Double) -> Double {
        let u = nextUnit()
        let v = nextUnit()
        return sigma * (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}
