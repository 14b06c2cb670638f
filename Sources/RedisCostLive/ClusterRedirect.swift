/// A cluster node's answer that a key lives elsewhere: `MOVED 3999 127.0.0.1:6381` (the slot
/// has another owner) or `ASK 3999 127.0.0.1:6381` (the slot is migrating; ask that node once,
/// after ASKING). See cluster.c getNodeByQuery / clusterRedirectClient.
package struct ClusterRedirect: Sendable, Equatable {
    package var slot: Int
    /// `host:port` as the server wrote it (an IPv6 host keeps its colons).
    package var address: String
    package var isAsk: Bool

    /// Reads an error reply; nil for any other error, a slot outside 0…16383 or an address
    /// without a port.
    package init?(_ message: String) {
        let words = message.split(separator: " ", omittingEmptySubsequences: true)
        guard words.count == 3, words[0] == "MOVED" || words[0] == "ASK",
              let slot = Int(words[1]), (0..<16384).contains(slot),
              let colon = words[2].lastIndex(of: ":"), Int(words[2][words[2].index(after: colon)...]).map({ (1...65535).contains($0) }) == true
        else { return nil }
        self.slot = slot
        address = String(words[2])
        isAsk = words[0] == "ASK"
    }

    /// One line for the user: which node to ask instead.
    package var explanation: String {
        isAsk ? "the key's slot \(slot) is migrating to the cluster node \(address): ask that node (after ASKING), or use --cluster"
            : "the key's slot \(slot) is served by another cluster node: ask \(address) instead (redis-cost … -h/-p of that node), or use --cluster"
    }
}
