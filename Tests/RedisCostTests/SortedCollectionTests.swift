import Foundation
import Testing
import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis
import RedisCostLive
import RedisCostReport

/// The collections behind the replay (a sorted set's ranked order, a list's ends, a stream's
/// deletions) agree with brute force under random edits, with what a real server holds, and
/// take any Int64 a command can carry without trapping.
@Suite struct SortedCollectionTests {
    typealias Entry = ScoredMembers.Entry

    // MARK: - against brute force

    /// Seed 1 draws scores from 40 values (many ties), seed 2 from a million (few).
    @Test("a sorted set agrees with a sorted array under random edits", arguments: [UInt64(1), 2])
    func scoredMembersAgreeWithBruteForce(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        let scoreRange: UInt64 = seed == 1 ? 40 : 1_000_000
        func randomScore() -> Double { Double(Int64(rng.next() % scoreRange) - Int64(scoreRange / 2)) }
        // Built in bulk first, then edited: both ways of making runs are exercised.
        var reference: [UInt64: Double] = [:]
        for _ in 0..<3000 { reference[rng.next() % 8000] = randomScore() }
        var zset = ScoredMembers(reference.map { Entry(score: $0.value, member: $0.key) })
        func sorted() -> [Entry] { reference.map { Entry(score: $0.value, member: $0.key) }.sorted() }
        var mismatches = 0
        for step in 0..<40_000 {
            let member = rng.next() % 8000
            // Ranges are removed only from a large set, so that it stays large (many runs). In
            // every other stretch of 8000 steps nothing asks for a rank: the order is dropped,
            // then rebuilt by the first rank operation after.
            var operation = rng.next() % 16
            if operation >= 10, operation < 14, reference.count < 2500 { operation = 0 }
            let quiet = step / 8000 % 2 == 1
            if quiet, operation >= 10, operation < 14 { operation = 15 }
            switch operation {
            case 0..<7:
                let score = randomScore()
                zset[member] = score
                reference[member] = score
            case 7..<10:
                if zset.removeValue(forKey: member) != reference.removeValue(forKey: member) { mismatches += 1 }
            case 10, 11:
                // Mostly short rank ranges; now and then one across many runs.
                let all = sorted()
                let lower = Int(rng.next() % UInt64(all.count + 1))
                let length = Int(rng.next() % (rng.next() % 20 == 0 ? 2000 : 30))
                let ranks = lower..<min(all.count, lower + length)
                let tie = (ranks.lowerBound > 0 && !ranks.isEmpty && all[ranks.lowerBound - 1].score == all[ranks.lowerBound].score)
                    || (ranks.upperBound < all.count && !ranks.isEmpty && all[ranks.upperBound - 1].score == all[ranks.upperBound].score)
                if zset.cutsTie(ranks) != tie || zset.entries(inRanks: ranks) != Array(all[ranks]) { mismatches += 1 }
                zset.removeRanks(ranks)
                for entry in all[ranks] { reference[entry.member] = nil }
            case 12, 13:
                let low = (value: randomScore(), exclusive: rng.next() % 2 == 0)
                let high = (value: low.value + Double(rng.next() % (scoreRange / 20 + 2)), exclusive: rng.next() % 2 == 0)
                let all = sorted()
                let expected = all.indices.filter { i in
                    (low.exclusive ? all[i].score > low.value : all[i].score >= low.value)
                        && (high.exclusive ? all[i].score < high.value : all[i].score <= high.value)
                }
                let ranks = zset.ranks(from: low, to: high)
                if Array(ranks) != expected { mismatches += 1 }
                if rng.next() % 2 == 0 {
                    zset.removeRanks(ranks)
                    for i in expected { reference[all[i].member] = nil }
                }
            default:
                if zset[member] != reference[member] { mismatches += 1 }
            }
            if zset.count != reference.count { mismatches += 1 }
            if step % 500 == 0 {
                let all = sorted()
                if zset.entries != all || zset.scores != reference { mismatches += 1 }
                for _ in 0..<20 where !all.isEmpty && !quiet {
                    let rank = Int(rng.next() % UInt64(all.count))
                    if zset.entry(atRank: rank) != all[rank] { mismatches += 1 }
                }
            }
        }
        #expect(mismatches == 0)
        #expect(zset.entries == sorted())
        #expect(reference.count > 1000, "the set stayed large enough to need many runs")
    }

    @Test("a large set's order goes after count changes with no rank asked, and comes back when one is")
    func aLargeSetKeepsItsOrderOnlyWhileRanked() {
        var zset = ScoredMembers()
        for i in 0..<1000 { zset[UInt64(i)] = Double(1000 - i) }
        #expect(zset.entry(atRank: 0) == Entry(score: 1, member: 999))
        let ordered = zset.heapBytes
        for round in 1...2 {
            for i in 0..<1000 { zset[UInt64(i)] = Double(i * round) }
        }
        let dropped = zset.heapBytes
        #expect(dropped < ordered - 1000 * 16, "2000 changes to 1000 members and no rank: the runs are gone")
        #expect(zset.entry(atRank: 1) == Entry(score: 2, member: 1))
        #expect(zset.entries(inRanks: 998..<1000) == [Entry(score: 1996, member: 998), Entry(score: 1998, member: 999)])
        #expect(zset.heapBytes > dropped + 1000 * 16, "rebuilt by the rank asked")
    }

    @Test("a sorted set is a value: changing a copy leaves the original as it was")
    func aSortedSetIsAValue() {
        for size in [10, 1000] {
            let original = ScoredMembers((0..<size).map { Entry(score: Double($0), member: UInt64($0)) })
            var copy = original
            copy[UInt64(size)] = -1
            copy.removeRanks(0..<3)
            _ = copy.entry(atRank: 0)
            #expect(original.count == size && copy.count == size - 2)
            #expect(original.entries == (0..<size).map { Entry(score: Double($0), member: UInt64($0)) })
            #expect(original[UInt64(size)] == nil && copy[UInt64(size)] == nil && copy[2] == 2)
        }
    }

    @Test func aSortedSetEmptiedByRankHoldsNothing() {
        var zset = ScoredMembers((0..<5000).map { Entry(score: Double($0), member: UInt64($0)) })
        zset.removeRanks(1000..<4000)
        #expect(zset.count == 2000)
        #expect(zset.entries.map(\.member) == (0..<1000).map(UInt64.init) + (4000..<5000).map(UInt64.init))
        #expect(zset[2500] == nil && zset[4500] == 4500)
        zset.removeRanks(0..<2000)
        #expect(zset.count == 0 && zset.entries.isEmpty && zset[4500] == nil)
        zset[7] = 1
        #expect(zset.entries == [Entry(score: 1, member: 7)])
    }

    @Test("a list agrees with an array when it is pushed, popped and cut at both ends")
    func identityListAgreesWithBruteForce() {
        var rng = SeededRandom(seed: 5)
        var list = IdentityList()
        var reference: [UInt64] = []
        var mismatches = 0
        for step in 0..<50_000 {
            let value = rng.next()
            switch rng.next() % 8 {
            case 0, 1:
                list.pushBack(value)
                reference.append(value)
            case 2, 3:
                list.pushFront(value)
                reference.insert(value, at: 0)
            case 4:
                if list.popFront() != reference.first { mismatches += 1 }
                if !reference.isEmpty { reference.removeFirst() }
            case 5:
                if list.popBack() != reference.last { mismatches += 1 }
                if !reference.isEmpty { reference.removeLast() }
            case 6:
                let k = Int(rng.next() % UInt64(reference.count / 4 + 1))
                list.removeFirst(k)
                reference.removeFirst(k)
            default:
                let k = Int(rng.next() % UInt64(reference.count / 4 + 1))
                list.removeLast(k)
                reference.removeLast(k)
            }
            if list.count != reference.count { mismatches += 1 }
            if step % 1000 == 0, list.elements != reference { mismatches += 1 }
        }
        #expect(mismatches == 0)
        // A list cut down from 100 000 elements does not keep the buffer of its peak.
        var long = IdentityList((0..<100_000).map(UInt64.init))
        long.removeFirst(99_000)
        long.removeLast(990)
        #expect(long.elements == (99_000..<99_010).map(UInt64.init))
        #expect(long.heapBytes < 1000)
    }

    @Test("a set agrees with Set under inserts, removes and pops of any member (SPOP from a capture)", arguments: [UInt64(3), 4])
    func identitySetAgreesWithBruteForce(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var set = IdentitySet()
        var reference = Set<UInt64>()
        var mismatches = 0
        var largest = 0
        for step in 0..<60_000 {
            // Members from a small range, so removes and re-inserts hit members that are there.
            let value = rng.next() % 5_000
            // Inserts win for the first half, pops for the second: the set grows past its
            // small form and is emptied again.
            switch (rng.next() % 6, step < 30_000) {
            case (0, _), (1, _), (2, true):
                if set.insert(value) != reference.insert(value).inserted { mismatches += 1 }
            case (3, _):
                if set.remove(value) != (reference.remove(value) != nil) { mismatches += 1 }
            default:
                // A popped member was there, and is gone; none is popped from an empty set.
                if let popped = set.removeAny() {
                    if reference.remove(popped) == nil { mismatches += 1 }
                } else if !reference.isEmpty {
                    mismatches += 1
                }
            }
            if set.count != reference.count { mismatches += 1 }
            if step % 1000 == 0, Set(set.elements) != reference { mismatches += 1 }
            largest = max(largest, reference.count)
        }
        #expect(mismatches == 0)
        #expect(largest > 1_000)  // the large form was exercised
        #expect(reference.count < largest / 2)
    }

    /// The edits move a set's storage out of its enum rather than copy it: a copy taken
    /// before them must keep its members, in the small form and in the large.
    @Test("a copy of a set keeps its members when the set is changed", arguments: [10, 1_000])
    func identitySetCopiesAreValues(size: Int) {
        var set = IdentitySet((0..<UInt64(size)).map { $0 })
        let copy = set
        set.insert(UInt64(size))
        set.remove(0)
        let popped = set.removeAny()
        #expect(popped != nil)
        #expect(set.count == size - 1)
        #expect(copy.count == size)
        #expect(Set(copy.elements) == Set((0..<UInt64(size)).map { $0 }))
        #expect(!set.contains(0) && copy.contains(0))
        #expect(set.contains(UInt64(size)) && !copy.contains(UInt64(size)))
    }

    /// Multiplier 1 puts every identity below 2^58 in slot 0 of a 64-slot table: one long run
    /// that wraps around the end, where removal's backward shift is easiest to get wrong.
    /// Seed 5 draws from 3,000 values (removes hit members that are there, the table grows and
    /// empties again), seed 6 from the whole range (the process's random multiplier, no repeats),
    /// seed 7 from small values with multiplier 1 (the 0 member included).
    @Test("the identity table agrees with Set<UInt64> under random inserts, removes and lookups", arguments: [UInt64(5), 6, 7])
    func identityTableAgreesWithSet(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var table = seed == 7 ? IdentityTable(multiplier: 1) : IdentityTable()
        var reference = Set<UInt64>()
        var mismatches = 0
        var largest = 0
        func draw() -> UInt64 {
            switch seed {
            case 5: rng.next() % 3_000 &* 0x9E37_79B9_7F4A_7C15  // spread over the range, 0 among them
            case 6: rng.next()
            default: rng.next() % 300
            }
        }
        var kept: [UInt64] = []
        for step in 0..<80_000 {
            let value = seed == 6 && !kept.isEmpty && rng.next() % 2 == 0 ? kept[Int(rng.next() % UInt64(kept.count))] : draw()
            if seed == 6, kept.count < 20_000 { kept.append(value) }
            // Inserts win for the first half, removes for the second.
            switch (rng.next() % 5, step < 40_000) {
            case (0, _), (1, true):
                if table.insert(value) != reference.insert(value).inserted { mismatches += 1 }
            case (1, false), (2, _):
                if table.remove(value) != (reference.remove(value) != nil) { mismatches += 1 }
            default:
                if table.contains(value) != reference.contains(value) { mismatches += 1 }
            }
            if table.count != reference.count { mismatches += 1 }
            if step % 2_000 == 0 {
                let elements = table.elements
                if elements.count != reference.count || Set(elements) != reference { mismatches += 1 }
                // Every member is found, and a copy is independent of the original.
                if !reference.allSatisfy(table.contains) { mismatches += 1 }
                var copy = table
                copy.insert(draw())
                if let any = reference.first { copy.remove(any) }
                if table.count != reference.count || Set(table.elements) != reference { mismatches += 1 }
            }
            largest = max(largest, reference.count)
        }
        #expect(mismatches == 0)
        #expect(largest > (seed == 7 ? 150 : 500))  // past one 64-slot table
        // Never more than three quarters full, so no more slots than Set<UInt64> has buckets.
        #expect(table.slotCount >= 64 && table.count * 4 <= table.slotCount * 3)
    }

    @Test("the identity table's memory is no more than Set<UInt64>'s for the same members")
    func identityTableMemory() {
        for n in [25, 48, 49, 96, 97, 1_000, 100_000, 786_432, 786_433] {
            let table = IdentityTable((1...UInt64(n)).map { $0 &* 0x9E37_79B9_7F4A_7C15 })
            var set = Set<UInt64>()
            for i in 1...UInt64(n) { set.insert(i &* 0x9E37_79B9_7F4A_7C15) }
            // Set's buckets: the power of two its capacity (three quarters of them) came from.
            var buckets = 1
            while buckets * 3 / 4 < set.capacity { buckets <<= 1 }
            #expect(table.count == n)
            #expect(table.slotCount <= Swift.max(buckets, IdentityTable.minimumSlots), "n = \(n)")
        }
    }

    @Test("a stream agrees with an array under XADD, XDEL and both trims")
    func streamEntriesAgreeWithBruteForce() {
        var rng = SeededRandom(seed: 9)
        var stream = StreamEntries()
        var reference: [StreamID] = []
        var next = StreamID(milliseconds: 1, sequence: 0)
        var mismatches = 0
        for step in 0..<60_000 {
            // Removals wait until the stream is long, so that it grows past compactions.
            var operation = rng.next() % 10
            if operation >= 5, reference.count < 1500, rng.next() % 3 != 0 { operation = 0 }
            switch operation {
            case 0..<5:
                next = rng.next() % 3 == 0 ? StreamID(milliseconds: next.milliseconds + 1 + rng.next() % 5, sequence: 0)
                    : StreamID(milliseconds: next.milliseconds, sequence: next.sequence + 1)
                if !stream.append(next) { mismatches += 1 }
                reference.append(next)
                // An ID not above the last is refused, as the server refuses it.
                if stream.append(reference[Int(rng.next() % UInt64(reference.count))]) { mismatches += 1 }
            case 5..<8:
                // An ID present, or one deleted already, trimmed or never added.
                let id = !reference.isEmpty && rng.next() % 2 == 0 ? reference[Int(rng.next() % UInt64(reference.count))]
                    : StreamID(milliseconds: rng.next() % (next.milliseconds + 2), sequence: rng.next() % 4)
                let at = reference.firstIndex(of: id)
                if stream.delete(id) != (at != nil) { mismatches += 1 }
                if let at { reference.remove(at: at) }
            case 8:
                let maxLength = max(0, reference.count - Int(rng.next() % 4))
                let dropped = reference.count - maxLength
                if stream.trim(maxLength: maxLength) != dropped { mismatches += 1 }
                reference.removeFirst(dropped)
            default:
                let minID = StreamID(milliseconds: (reference.first?.milliseconds ?? 0) + rng.next() % 3, sequence: rng.next() % 3)
                let dropped = reference.prefix { $0 < minID }.count
                if stream.trim(minID: minID) != dropped { mismatches += 1 }
                reference.removeFirst(dropped)
            }
            if stream.count != reference.count { mismatches += 1 }
            if step % 1000 == 0, stream.entryIDs != reference { mismatches += 1 }
        }
        #expect(mismatches == 0)
        #expect(stream.entryIDs == reference)
        #expect(reference.count > 1000, "the stream grew past a compaction")
    }

    // MARK: - input numbers at their extremes

    @Test("index, rank and LIMIT arithmetic takes any Int64 without trapping")
    func rangeArithmeticAtTheExtremes() {
        let (min, max) = (Int64.min, Int64.max)
        #expect(indexRange(start: min, stop: max, count: 5) == 0..<5)
        #expect(indexRange(start: max, stop: min, count: 5) == nil)
        #expect(indexRange(start: min, stop: min, count: 5) == nil)
        #expect(indexRange(start: max, stop: max, count: 5) == nil)
        #expect(indexRange(start: -3, stop: max, count: 5) == 2..<5)
        #expect(indexRange(start: min, stop: -2, count: 5) == 0..<4)
        #expect(indexRange(start: 0, stop: -1, count: 0) == nil)
        #expect(indexRange(start: min, stop: max, count: 0) == nil)
        #expect(ascendingRanks(start: 0, stop: max, count: 5, fromTop: true) == 0..<5)
        #expect(ascendingRanks(start: 0, stop: 1, count: 5, fromTop: true) == 3..<5)
        #expect(ascendingRanks(start: min, stop: 0, count: 5, fromTop: true) == 4..<5)
        #expect(limited(2..<10, offset: max, limit: max, fromTop: false).isEmpty)
        #expect(limited(2..<10, offset: min, limit: 3, fromTop: false).isEmpty)
        #expect(limited(2..<10, offset: 1, limit: min, fromTop: false) == 3..<10)
        #expect(limited(2..<10, offset: 1, limit: min, fromTop: true) == 2..<9)
        #expect(limited(2..<10, offset: 1, limit: 2, fromTop: true) == 7..<9)
        #expect(limited(2..<10, offset: 0, limit: max, fromTop: true) == 2..<10)
    }

    /// Each command goes to a real server and to the model; every key's type and size must
    /// then agree. The server's errors (a negative count, a huge numkeys) change nothing.
    @Test("commands with extreme numbers change the model as they change a real server", arguments: TestServer.Kind.allCases)
    func extremeArgumentsMatchTheServer(kind: TestServer.Kind) throws {
        let (min, max) = (String(Int64.min), String(Int64.max))
        let maxID = "\(UInt64.max)-\(UInt64.max)"
        let five = ["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"]
        let commands: [[String]] = [
            five, ["ZPOPMIN", "z", "0"], ["ZPOPMIN", "z", "-1"], ["ZPOPMIN", "z", min], ["ZPOPMAX", "z", max],
            five, ["ZMPOP", "1", "z", "MIN", "COUNT", "0"], ["ZMPOP", "1", "z", "MIN", "COUNT", min], ["ZMPOP", max, "z", "MIN"],
            ["ZMPOP", min, "z", "MIN"], ["ZMPOP", "2", "missing", "z", "MAX", "COUNT", max],
            five, ["ZREMRANGEBYRANK", "z", min, min], ["ZREMRANGEBYRANK", "z", max, min], ["ZREMRANGEBYRANK", "z", max, max],
            ["ZREMRANGEBYRANK", "z", min, "0"],
            ["ZRANGESTORE", "d1", "z", min, max], ["ZRANGESTORE", "d2", "z", "0", "1", "LIMIT", "0", "1"],
            ["ZRANGESTORE", "d3", "z", "-inf", "+inf", "BYSCORE", "LIMIT", min, "2"],
            ["ZRANGESTORE", "d4", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", min],
            ["ZRANGESTORE", "d5", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", max, max],
            ["ZRANGESTORE", "d6", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "2"],
            ["ZRANGESTORE", "d7", "z", max, min, "REV"], ["ZRANGESTORE", "d1", "z", max, max],
            ["ZUNIONSTORE", "u", max, "z"], ["ZUNIONSTORE", "u", min, "z"], ["ZINTERSTORE", "u", max, "z"],
            ["ZADD", "z", "nan", "x"], ["ZADD", "z", "1", "x", "nan", "y"], ["ZADD", "inf", "inf", "a"],
            ["ZINCRBY", "inf", "-inf", "a"], ["ZADD", "inf", "INCR", "-inf", "a"],
            ["ZUNIONSTORE", "u", "1", "inf", "WEIGHTS", "0"], ["ZREMRANGEBYSCORE", "u", "0", "0"],
            ["RPUSH", "l", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"],
            ["LTRIM", "l", min, max], ["LTRIM", "l", "1", max], ["LTRIM", "l", min, "-2"], ["LTRIM", "l", max, min],
            ["RPUSH", "l", "1", "2", "3"], ["LPOP", "l", min], ["LPOP", "l", "0"], ["RPOP", "l", max],
            ["RPUSH", "l", "1", "2", "3"], ["LMPOP", max, "l", "LEFT"], ["LMPOP", "1", "l", "LEFT", "COUNT", min],
            ["LMPOP", "1", "l", "RIGHT", "COUNT", max],
            ["RPUSH", "l", "1", "2", "1", "2", "1"], ["LREM", "l", min, "2"], ["LTRIM", "l", max, max],
            ["XADD", "s", "1-1", "f", "v"], ["XADD", "s", "2-1", "f", "v"], ["XADD", "s", "3-1", "f", "v"],
            ["XTRIM", "s", "MAXLEN", min], ["XADD", "s", "MAXLEN", "-1", "4-1", "f", "v"], ["XTRIM", "s", "MAXLEN", max],
            ["XDEL", "s", "2-1", "2-1", maxID], ["XADD", "s", "1-5", "f", "v"], ["XTRIM", "s", "MINID", maxID],
            ["XADD", "s", maxID, "f", "v"], ["XADD", "s", "*", "f", "v"],
        ]
        let server = try TestServer(kind)
        _ = try server.connect().pipeline(commands)
        let replayer = Replayer()
        for command in commands {
            let effect = try #require(Replayer.effect(for: command[0]))
            Argv.with(command.map { Array($0.utf8) }) { replayer.run(effect, $0) }
        }
        #expect(differences(modelState(replayer.keyspace).state, try serverState(server)) == [:])
    }

    // MARK: - an AOF written by a real server

    /// A random workload of rank, score and end operations on large keys (thousands of
    /// members, so many runs), written to an AOF by a real server and replayed. Scores are
    /// distinct, so every rank is exact and the replayed order must be the server's.
    @Test("rank, score and end operations replay to exactly what a real server holds", arguments: TestServer.Kind.allCases)
    func rankAndEndOperationsReplayExactly(kind: TestServer.Kind) throws {
        let server = try TestServer(kind, arguments: ["--appendonly", "yes", "--aof-use-rdb-preamble", "no", "--appendfsync", "always"])
        let connection = try server.connect()
        var rng = SeededRandom(seed: 11)
        func random(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        var usedScores: Set<Int> = []
        var nextMember = 0
        /// `count` new members with scores no member ever had.
        func members(_ count: Int) -> [String] {
            (0..<count).flatMap { _ -> [String] in
                var score = random(1_000_000_000)
                while !usedScores.insert(score).inserted { score = random(1_000_000_000) }
                nextMember += 1
                return [String(score), "m\(nextMember)"]
            }
        }
        var streamIDs: [[String]] = [[], []]
        var nextMillisecond = 1
        func streamEntries(_ s: Int, _ count: Int) -> [[String]] {
            (0..<count).map { _ in
                nextMillisecond += 1 + random(3)
                let id = "\(nextMillisecond)-\(random(3))"
                streamIDs[s].append(id)
                return ["XADD", "s\(s)", id, "f", "v"]
            }
        }
        var commands: [[String]] = []
        for z in 0..<3 { for _ in 0..<8 { commands.append(["ZADD", "z\(z)"] + members(500)) } }
        for l in 0..<2 { commands.append(["RPUSH", "l\(l)"] + (0..<3000).map { "e\($0 % 700)" }) }
        for s in 0..<2 { commands += streamEntries(s, 3000) }
        // Ties: which of equal scores go depends on member bytes, so this key says it is approximate.
        commands.append(["ZADD", "tie"] + (0..<200).flatMap { ["1", "t\($0)"] })
        commands.append(["ZPOPMIN", "tie", "3"])
        for _ in 0..<4000 {
            let z = "z\(random(3))"
            let l = "l\(random(2))"
            let s = random(2)
            func index() -> String { String(random(40) - 20) }
            func bound() -> String {
                switch random(12) {
                case 0: "-inf"
                case 1: "+inf"
                case 2, 3, 4: "(\(random(1_000_000_000))"
                default: String(random(1_000_000_000))
                }
            }
            func span() -> (String, String) {
                let low = random(1_000_000_000)
                let high = low + random(3_000_000)
                return (random(3) == 0 ? "(\(low)" : String(low), random(3) == 0 ? "(\(high)" : String(high))
            }
            switch random(20) {
            case 0: commands.append(["ZPOPMIN", z] + (random(2) == 0 ? [] : [String(1 + random(20))]))
            case 1: commands.append(["ZPOPMAX", z] + (random(2) == 0 ? [] : [String(1 + random(20))]))
            case 2: commands.append(["ZMPOP", "2", "nothing", z, random(2) == 0 ? "MIN" : "MAX", "COUNT", String(1 + random(30))])
            case 3: commands.append(["ZREMRANGEBYRANK", z, index(), index()])
            case 4:
                let (low, high) = span()
                commands.append(["ZREMRANGEBYSCORE", z, low, high])
            case 5: commands.append(["ZREMRANGEBYSCORE", z, bound(), bound()])
            case 6: commands.append(["ZRANGESTORE", "d\(random(3))", z, index(), index()] + (random(2) == 0 ? ["REV"] : []))
            case 7:
                let (low, high) = span()
                let reverse = random(2) == 0
                let limit = random(2) == 0 ? ["LIMIT", String(random(12) - 1), String(random(25) - 2)] : []
                commands.append(["ZRANGESTORE", "d\(random(3))", z] + (reverse ? [high, low, "BYSCORE", "REV"] : [low, high, "BYSCORE"]) + limit)
            case 8: commands.append(["ZADD", z] + members(1 + random(60)))
            case 9:
                // Existing members move: ZADD XX with new scores for members that may be there.
                let moved = (0..<(1 + random(8))).flatMap { _ -> [String] in
                    var score = random(1_000_000_000)
                    while !usedScores.insert(score).inserted { score = random(1_000_000_000) }
                    return [String(score), "m\(1 + random(nextMember))"]
                }
                commands.append(["ZADD", z, "XX"] + moved)
            case 10: commands.append(["ZREM", z] + (0..<(1 + random(5))).map { _ in "m\(1 + random(nextMember))" })
            case 11: commands.append(["LTRIM", l, index(), String(random(3000) - 1500)])
            case 12: commands.append(["LTRIM", l, String(random(3)), String(-1 - random(3))])
            case 13: commands.append([random(2) == 0 ? "LPOP" : "RPOP", l, String(1 + random(10))])
            case 14: commands.append([random(2) == 0 ? "RPUSH" : "LPUSH", l] + (0..<(1 + random(80))).map { _ in "e\(random(700))" })
            case 15: commands += streamEntries(s, 1 + random(20))
            case 16:
                let ids = streamIDs[s]
                commands.append(["XDEL", "s\(s)"] + (0..<(1 + random(4))).map { _ in ids[random(ids.count)] })
            case 17:
                let ids = streamIDs[s]
                commands.append(["XTRIM", "s\(s)", "MINID", ids[min(ids.count - 1, random(ids.count / 40 + 1) + ids.count / 3)]])
            case 18: commands.append(["XTRIM", "s\(s)", "MAXLEN", String(1000 + random(3000))])
            default: commands.append(["ZADD", z] + members(1 + random(30)))
            }
        }
        for chunk in stride(from: 0, to: commands.count, by: 1000) {
            let replies = try connection.pipeline(Array(commands[chunk..<min(commands.count, chunk + 1000)]))
            let errors = replies.compactMap { if case .error(let message) = $0 { message } else { nil } }
            #expect(errors == [])
        }
        let directory = server.directory.appendingPathComponent("appendonlydir").path
        let truth = try serverState(server)
        let (state, approximate, _) = try replayState(directory)
        #expect(differences(state, truth) == [:])
        #expect(approximate == ["tie"])

        // Beyond sizes: every sorted set in the server's rank order, every list and stream in order.
        let analyzer = Analyzer(table: try CommandTable.embedded())
        _ = try analyzer.run(try AOFInput(path: directory))
        let keyspace = analyzer.replayer.keyspace
        var compared = 0
        for id in keyspace.keys(in: 0) {
            let name = KeyText.display(keyspace.nameBytes(of: id))
            switch keyspace[id].value {
            case .zset(let zset) where name != "tie":
                let members = try connection.require(["ZRANGE", name, "0", "-1"]).array!.map { elementHash(bulkBytes($0)) }
                #expect(zset.entries.map(\.member) == members, "\(name)")
            case .list(let list):
                let elements = try connection.require(["LRANGE", name, "0", "-1"]).array!.map { elementHash(bulkBytes($0)) }
                #expect(list.elements == elements, "\(name)")
            case .stream(let stream):
                let ids = try connection.require(["XRANGE", name, "-", "+"]).array!.map { $0.array![0].text! }
                #expect(stream.entryIDs.map { "\($0.milliseconds)-\($0.sequence)" } == ids, "\(name)")
            default: continue
            }
            compared += 1
        }
        #expect(compared >= 7, "3 sorted sets, 2 lists and 2 streams at least")
    }
}

private func bulkBytes(_ value: RESPValue) -> [UInt8] {
    if case .bulk(let bytes) = value { return bytes }
    return []
}
