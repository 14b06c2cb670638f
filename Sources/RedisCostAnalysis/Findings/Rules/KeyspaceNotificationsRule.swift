import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// Subscribers to keyspace events while many keys expire.
package struct KeyspaceNotificationsRule: FindingRule {
    package static let id = "keyspace-notifications"
    package static let title = "Keyspace-notification subscribers while many keys expire"
    package static let severity = Finding.Severity.warning
    package static let why = "With notify-keyspace-events on, every expiry (and every write of the enabled classes) publishes a message to each subscriber; a burst of expiries fills the subscribers' output buffers, and the server disconnects a subscriber that passes client-output-buffer-limit pubsub (32 MB / 8 MB for 60 s by default)."
    package static let fix = "Size client-output-buffer-limit pubsub for the expiry rate, enable only the event classes you consume (e.g. Ex), and make subscribers read fast; spread TTLs so keys do not expire together."
    /// Subscribes, in any space (`subscription: subscribe`).
    package static func watches(_ entry: CommandEntry) -> Bool { entry.semantics.subscription == .subscribe }
    /// Once armed, every command that can give its key a TTL (`expires`).
    package static func follows(_ entry: CommandEntry) -> Bool { entry.semantics.expires != nil }
    package static let threshold: RuleThreshold? = RuleThreshold(1000, "keys given a TTL while subscribed")
    package static let examples: [RuleExample] = [
        .fires("a subscriber to expired events, then 1,200 keys with a TTL", [ExampleCall("PSUBSCRIBE", "__keyevent@*__:expired", client: 2)]
            + (0..<1200).map { ExampleCall("SET", "cache:\($0)", "v", "EX", "60") }),
        .quiet("keys with a TTL and no subscriber", (0..<1200).map { ExampleCall("SET", "cache:\($0)", "v", "EX", "60") }),
    ]

    package let limit: Double
    package var subscriptions = FindingBuilder()
    package var expiringKeys = 0
    package init(threshold: Double) { limit = threshold }
    package var isArmed: Bool { subscriptions.count > 0 }

    package mutating func observe(_ call: ObservedCall) {
        if call.semantics.subscription == .subscribe {
            for i in 1..<call.argv.count {
                let channel = call.argv[i]
                if channel.starts(with: "__keyevent@".utf8) || channel.starts(with: "__keyspace@".utf8) {
                    subscriptions.add(call, cost: 0, note: "channel \(name: call.argv.bytes(i))")
                    break
                }
            }
            return
        }
        switch call.semantics.expires {
        case nil:
            break
        case .always?:
            guard subscriptions.count > 0 else { return }
            expiringKeys += 1
        case .withOption(let options)?:
            guard subscriptions.count > 0,
                  (2..<max(call.argv.count, 2)).contains(where: { i in options.contains { call.argv.equalsToken(i, $0) } }) else { return }
            expiringKeys += 1
        }
    }

    package func findings(in result: AnalysisResult, table: CommandTable) -> [Finding] {
        guard Double(expiringKeys) >= limit else { return [] }
        return subscriptions.finding(Self.self, summary: "\(counted(subscriptions.count, "keyspace-event subscription")) while \(counted(expiringKeys, "key")) were given a TTL.",
                                     threshold: "\(grouped(limit)) keys").map { [$0] } ?? []
    }
}
