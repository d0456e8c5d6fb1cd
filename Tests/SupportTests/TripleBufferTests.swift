import Support
import Testing

/// A slot of the tests' buffers: `words` integers that a writer fills with one value.
private struct Block {
    let words: UnsafeMutablePointer<UInt64>
    var number: UInt64 = 0
}

/// Three blocks of `count` words each, freed with the buffer's owner.
private final class Blocks: @unchecked Sendable {
    let count: Int
    let storage: UnsafeMutablePointer<UInt64>
    let buffer: TripleBuffer<Block>

    init(words count: Int) {
        self.count = count
        let storage = UnsafeMutablePointer<UInt64>.allocate(capacity: 3 * count)
        storage.initialize(repeating: 0, count: 3 * count)
        self.storage = storage
        buffer = TripleBuffer { Block(words: storage + $0 * count) }
    }

    deinit { storage.deallocate() }

    /// Fills the producer's block with `value` and publishes it.
    @discardableResult
    func publish(_ value: UInt64) -> UInt64 {
        let block = buffer.producerSlot
        block.words.update(repeating: value, count: count)
        return buffer.publish { slot, number in slot.number = number }
    }
}

@Suite("TripleBuffer")
struct TripleBufferTests {
    @Test("latest wins: unseen items are replaced and counted as dropped")
    func latestWins() {
        let blocks = Blocks(words: 4)
        #expect(blocks.buffer.take() == nil)
        #expect(blocks.publish(10) == 1)
        #expect(blocks.publish(20) == 2)
        #expect(blocks.publish(30) == 3)
        let taken = blocks.buffer.take()
        #expect(taken?.number == 3)
        #expect(taken?.words[0] == 30 && taken?.words[3] == 30)
        #expect(blocks.buffer.take() == nil, "an item is handed out once")
        #expect(blocks.buffer.counts == TripleBufferCounts(published: 3, taken: 1, dropped: 2))

        blocks.publish(40)
        #expect(blocks.buffer.take()?.words[1] == 40)
        #expect(blocks.buffer.counts == TripleBufferCounts(published: 4, taken: 2, dropped: 2))
    }

    @Test("the three slots stay distinct: the producer never gets the slot the consumer holds")
    func slotsStayDistinct() {
        let blocks = Blocks(words: 1)
        blocks.publish(1)
        let held = blocks.buffer.take()!.words
        for i in 0..<100 {
            #expect(blocks.buffer.producerSlot.words != held)
            blocks.publish(UInt64(i))
            #expect(blocks.buffer.consumerSlot.words == held)
        }
        #expect(held[0] == 1, "the held item was never written again")
    }

    @Test("the writer never blocks: it publishes on while the consumer holds a slot and never takes")
    func writerNeverBlocks() {
        let blocks = Blocks(words: 16)
        blocks.publish(1)
        _ = blocks.buffer.take()
        let start = MonotonicClock.now()
        let writer = WorkerThread(name: "tb-writer") { [blocks] in
            for i in 0..<200_000 { blocks.publish(UInt64(i)) }
        }
        writer.join()
        let seconds = Double(MonotonicClock.now() - start) / 1e9
        #expect(seconds < 10, "200000 publishes with a stalled consumer took \(seconds) s")
        #expect(blocks.buffer.counts.published == 200_001)
        #expect(blocks.buffer.counts.dropped == 199_999)
    }

    @Test("no torn reads and no going back, with a writer, a reader and observers on their own threads")
    func noTornReads() {
        let blocks = Blocks(words: 4096)
        let total: UInt64 = 20_000
        let writer = WorkerThread(name: "tb-writer") { [blocks] in
            for i in 1...total { blocks.publish(i) }
            blocks.buffer.close()
        }
        // Observers read the counts and wait for publishes at the same time.
        let observers = (0..<2).map { k in
            WorkerThread(name: "tb-observer-\(k)") { [blocks] in
                var seen: UInt64 = 0
                while seen < total {
                    seen = blocks.buffer.waitForPublish(after: seen, timeout: 50 * Nanoseconds.millisecond)
                    let c = blocks.buffer.counts
                    precondition(c.taken + c.dropped <= c.published, "counts out of step: \(c)")
                }
            }
        }
        var torn = 0, backwards = 0, taken = 0
        var last: UInt64 = 0
        while let block = blocks.buffer.take(waitingUpTo: 5 * Nanoseconds.second) {
            let value = block.words[0]
            for w in 0..<blocks.count where block.words[w] != value { torn += 1; break }
            if value != block.number { torn += 1 }
            if value <= last { backwards += 1 }
            last = value
            taken += 1
        }
        writer.join()
        for o in observers { o.join() }
        #expect(torn == 0)
        #expect(backwards == 0)
        #expect(last == total, "the newest item reaches the reader")
        let c = blocks.buffer.counts
        #expect(c.published == total)
        #expect(c.taken == UInt64(taken))
        #expect(c.taken + c.dropped == total, "every item is either taken or dropped")
    }

    @Test("take waits for an item, times out, and returns what was published before close")
    func waitingAndClosing() {
        let blocks = Blocks(words: 1)
        let start = MonotonicClock.now()
        #expect(blocks.buffer.take(waitingUpTo: 30 * Nanoseconds.millisecond) == nil)
        #expect(MonotonicClock.now() - start >= 30 * Nanoseconds.millisecond)

        let writer = WorkerThread(name: "tb-late") { [blocks] in
            MonotonicClock.sleep(nanoseconds: 20 * Nanoseconds.millisecond)
            blocks.publish(7)
        }
        #expect(blocks.buffer.take(waitingUpTo: nil)?.words[0] == 7)
        writer.join()

        blocks.publish(8)
        blocks.buffer.close()
        #expect(blocks.buffer.isClosed)
        #expect(blocks.buffer.take(waitingUpTo: nil)?.words[0] == 8, "an item published before close is handed out")
        #expect(blocks.buffer.take(waitingUpTo: nil) == nil, "then a closed buffer returns at once")

        let other = Blocks(words: 1)
        let closer = WorkerThread(name: "tb-closer") { [other] in
            MonotonicClock.sleep(nanoseconds: 20 * Nanoseconds.millisecond)
            other.buffer.close()
        }
        #expect(other.buffer.take(waitingUpTo: nil) == nil, "close wakes a consumer waiting without a deadline")
        closer.join()
    }
}

extension Block: Equatable {
    static func == (a: Block, b: Block) -> Bool { a.words == b.words && a.number == b.number }
}
