import Foundation
import RedisCostCore
import RedisCostFormats

/// `monitor --cluster`'s view of the cluster during the session: the topology is read again
/// every `interval` seconds, and at once when a watched node goes away or a sampler is told
/// MOVED/ASK, through the sampler of a node still watched (its stream shows the question as
/// the tool's own). A primary not watched yet (a replica that took over, a new primary) is
/// what the session starts watching; a watched node no longer a primary is what it stops.
final class ClusterWatch {
    let seed: ConnectionOptions
    /// The primaries as last read, and which command answered.
    private(set) var topology: ClusterTopology
    let interval: Double
    private var nextRead: Double
    /// A node went away or a sampler was redirected: read the topology on the next pass.
    var readSoon = false
    private var redirectsSeen = 0
    /// Primaries that could not be connected to, and when: not tried again for `retrySeconds`
    /// (a dead host the cluster has not marked failed yet may take the whole --timeout to refuse,
    /// and the other nodes' streams wait meanwhile).
    private var unreachableAt: [String: Double] = [:]
    static let retrySeconds = 15.0

    struct Change {
        /// Primaries to start watching, each with the nodes that served its slots before and are no longer primaries.
        var added: [(options: ConnectionOptions, address: String, replacing: [String])] = []
        /// Watched nodes the cluster no longer lists as primaries.
        var demoted: [NodeMonitor] = []
    }

    init(seed: ConnectionOptions, topology: ClusterTopology, interval: Double, now: Double) {
        self.seed = seed
        self.topology = topology
        self.interval = interval
        nextRead = now + interval
    }

    /// The topology read again when due, and what differs from the nodes watched; nil when not due
    /// or no watched node could answer (asked again on the next pass that is due).
    func refresh(now: Double, nodes: [NodeMonitor]) -> Change? {
        let redirects = nodes.reduce(0) { $0 + $1.sampler.redirectsSeen }
        if redirects > redirectsSeen { readSoon = true }
        redirectsSeen = redirects
        guard readSoon || (interval > 0 && now >= nextRead) else { return nil }
        let watched = nodes.filter { $0.endReason == nil }
        guard let asked = watched.first(where: { $0.sampler.isEnabled }) else { return nil }
        nextRead = now + max(interval, 0.5)
        let fresh: ClusterTopology
        do throws(ServerError) {
            fresh = try ClusterTopology.read(server: asked.connection.serverName, seedHost: asked.connection.host) { argv throws(ServerError) in
                try asked.sampler.send(argv)
            }
        } catch {
            return nil
        }
        readSoon = false
        // A view that names no primary (a node still joining) changes nothing.
        guard !fresh.primaries.isEmpty else { return nil }
        let previous = topology
        topology = fresh
        var change = Change()
        let primaryAddresses = Set(fresh.primaries.map(\.address))
        let watchedAddresses = Set(watched.map(\.connection.serverName))
        for (primary, options) in zip(fresh.primaries, fresh.connections(from: seed)) where !watchedAddresses.contains(options.serverName) {
            if let at = unreachableAt[options.serverName], now - at < Self.retrySeconds { continue }
            // The nodes that served any of its slots before and that the cluster no longer lists as primaries.
            let replacing = previous.primaries.filter { old in
                !primaryAddresses.contains(old.address) && old.slots.contains { a in primary.slots.contains { $0.overlaps(a) } }
            }.map(\.address)
            change.added.append((options, options.serverName, replacing))
        }
        change.demoted = watched.filter { !primaryAddresses.contains($0.connection.serverName) }
        return change
    }

    /// A primary the session could not start watching: asked again after `retrySeconds`.
    func unreachable(_ address: String, now: Double) {
        unreachableAt[address] = now
    }
}
