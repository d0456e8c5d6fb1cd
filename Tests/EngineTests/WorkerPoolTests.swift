import Engine
import Synchronization
import TestSupport
import Testing

/// One atomic counter per task index.
private final class TaskCounters: @unchecked Sendable {
    let count: Int
    let slots: UnsafeMutablePointer<Atomic<Int>>
    let badWorkers = Atomic<Int>(0)

    init(count: Int) {
        self.count = count
        slots = .allocate(capacity: max(count, 1))
        for i in 0..<count { (slots + i).initialize(to: Atomic(0)) }
    }

    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }

    /// Tasks that did not run exactly once since the last reset; resets every counter to 0.
    func wrongAndReset(upTo n: Int) -> Int {
        var wrong = 0
        for i in 0..<n where slots[i].exchange(0, ordering: .relaxed) != 1 { wrong += 1 }
        return wrong
    }
}

@Suite("WorkerPool")
struct WorkerPoolTests {
    static let taskCounts = [0, 1, 2, 3, 1000]

    /// Over 2,000 consecutive rounds of loops of 0, 1, 2, 3 and 1,000 tasks, every task index runs
    /// exactly once per loop and every worker id is in `0..<threadCount`. Three threads on a
    /// two-core machine spin against each other, so that case runs fewer rounds.
    @Test(arguments: [(threads: 1, rounds: 2000), (threads: 2, rounds: 2000), (threads: 3, rounds: 500)])
    func everyTaskRunsExactlyOnce(threads: Int, rounds: Int) {
        let pool = WorkerPool(threads: threads)
        #expect(pool.threadCount == threads)
        let counters = TaskCounters(count: Self.taskCounts.max()!)
        let workerOf = UnsafeMutableBufferPointer<Int>.allocate(capacity: counters.count)
        defer { workerOf.deallocate() }
        var wrongLoops = 0, badWorkers = 0, callerTookPart = false
        for _ in 0..<rounds {
            for n in Self.taskCounts {
                pool.parallelFor(n) { task, worker in
                    guard task >= 0 && task < n else {
                        counters.badWorkers.add(1, ordering: .relaxed)
                        return
                    }
                    counters.slots[task].add(1, ordering: .relaxed)
                    workerOf[task] = worker
                }
                // parallelFor returns only when all tasks are done: the counts are final here.
                if counters.wrongAndReset(upTo: n) != 0 { wrongLoops += 1 }
                for t in 0..<n {
                    if workerOf[t] < 0 || workerOf[t] >= threads { badWorkers += 1 }
                    if workerOf[t] == 0 { callerTookPart = true }
                }
            }
        }
        #expect(wrongLoops == 0, "loops where some task did not run exactly once")
        #expect(badWorkers == 0, "tasks given a worker id out of range")
        #expect(counters.badWorkers.load(ordering: .relaxed) == 0, "tasks given an index out of range")
        #expect(callerTookPart, "the calling thread takes part as worker 0")
    }

    /// A pool of zero or negative threads still has one: the caller.
    @Test func atLeastOneThread() {
        for n in [0, -3] {
            let pool = WorkerPool(threads: n)
            #expect(pool.threadCount == 1)
            let ran = Atomic<Int>(0)
            pool.parallelFor(5) { _, worker in
                #expect(worker == 0)
                ran.add(1, ordering: .relaxed)
            }
            #expect(ran.load(ordering: .relaxed) == 5)
            pool.parallelFor(-1) { _, _ in ran.add(100, ordering: .relaxed) }
            #expect(ran.load(ordering: .relaxed) == 5)
        }
    }

    /// A loop's tasks really run on several threads at once when the pool has them: with two threads,
    /// a task that waits for another to start completes only if a second thread runs it.
    @Test func tasksRunConcurrently() {
        let pool = WorkerPool(threads: 2)
        let started = Atomic<Int>(0)
        let timedOut = Atomic<Bool>(false)
        pool.parallelFor(2) { _, _ in
            started.add(1, ordering: .sequentiallyConsistent)
            var spins = 0
            while started.load(ordering: .sequentiallyConsistent) < 2 {
                spins += 1
                if spins > 200_000_000 { timedOut.store(true, ordering: .relaxed); return }
            }
        }
        let stuck = timedOut.load(ordering: .relaxed)
        #expect(!stuck, "the second task never started")
    }

    /// Workers that went to sleep between loops wake for the next one.
    @Test func wakesAfterIdle() async throws {
        let pool = WorkerPool(threads: 3)
        for _ in 0..<3 {
            try await Task.sleep(for: .milliseconds(30))  // long enough for workers to stop spinning
            let counters = TaskCounters(count: 64)
            pool.parallelFor(64) { t, _ in counters.slots[t].add(1, ordering: .relaxed) }
            #expect(counters.wrongAndReset(upTo: 64) == 0)
        }
    }

    /// Releasing a pool that has run loops deinitializes it (joining its threads) without hanging.
    @Test func releasedAfterUse() {
        weak var released: WorkerPool?
        do {
            let pool = WorkerPool(threads: 3)
            pool.parallelFor(100) { _, _ in }
            released = pool
        }
        #expect(released == nil)
    }

    /// Creating and releasing pools repeatedly, with and without running a loop (so some are released
    /// before their threads have even started), neither hangs nor crashes, and each released pool is
    /// deinitialized.
    @Test func createAndReleaseRepeatedly() {
        for round in 0..<200 {
            weak var released: WorkerPool?
            do {
                let pool = WorkerPool(threads: 1 + round % 4)
                if round % 2 == 0 { pool.parallelFor(1 + round % 7) { _, _ in } }
                released = pool
            }
            #expect(released == nil)
        }
    }

    /// Networks own their pools: releasing one releases its pool.
    @Test func networkReleasesItsPool() throws {
        weak var released: WorkerPool?
        do {
            let graph = try singleNodeGraph(.relu, input: Shape([1, 2, 3, 3]))
            let network = Network(graph: graph, threads: 2)
            network.forward()
            released = network.pool
        }
        #expect(released == nil)
    }
}
