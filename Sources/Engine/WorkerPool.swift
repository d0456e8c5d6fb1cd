import Foundation
import Synchronization

/// A fixed set of long-lived threads that run `parallelFor` loops together with the calling thread.
///
/// Built once with the network; a loop hands out task indices through an atomic counter, so uneven
/// tasks balance themselves. Between loops the workers spin briefly (the next layer follows within
/// microseconds during a forward pass), then sleep on a condition variable until the next loop, so an
/// idle network costs no CPU. Running a loop allocates nothing.
public final class WorkerPool: @unchecked Sendable {
    /// Threads taking part in each loop, the caller included.
    public let threadCount: Int
    private let state: State

    public init(threads: Int) {
        threadCount = max(1, threads)
        state = State(workers: threadCount - 1)
        for worker in 1..<threadCount {
            // Workers hold only the shared state, never the pool: releasing the pool stops them.
            let t = Thread { [state] in state.workerLoop(worker: worker) }
            t.name = "deepscope-engine-\(worker)"
            t.stackSize = 1 << 20
            t.start()
        }
    }

    deinit { state.stop() }

    /// Runs `body(task, worker)` for every task in `0..<count`, spread over the pool's threads, and
    /// returns when all are done. `worker` (0..<threadCount) identifies the thread, for per-thread
    /// scratch memory. Not reentrant: call it from one thread at a time.
    ///
    /// `body` is escaping so that callers can build it once, ahead of time: handing a closure
    /// that already exists to the workers allocates nothing, where wrapping a non-escaping one
    /// for them would allocate on every loop.
    public func parallelFor(_ count: Int, _ body: @escaping (_ task: Int, _ worker: Int) -> Void) {
        if count <= 0 { return }
        if count == 1 || threadCount == 1 {
            for i in 0..<count { body(i, 0) }
            return
        }
        state.run(count, body)
    }

    /// What the caller and the workers share.
    private final class State: @unchecked Sendable {
        let workers: Int
        let generation = Atomic<Int>(0)
        let pendingWorkers = Atomic<Int>(0)
        let nextTask = Atomic<Int>(0)
        let sleepers = Atomic<Int>(0)
        let stopping = Atomic<Bool>(false)
        let exited = Atomic<Int>(0)
        nonisolated(unsafe) var taskCount = 0
        /// Tasks claimed per atomic increment: about eight claims per thread per loop, so many
        /// small tasks do not bounce the counter's cache line between cores.
        nonisolated(unsafe) var grain = 1
        nonisolated(unsafe) var body: ((Int, Int) -> Void)?
        let mutex: UnsafeMutablePointer<pthread_mutex_t>
        let wake: UnsafeMutablePointer<pthread_cond_t>
        /// Spin iterations before a worker goes to sleep (tens of microseconds).
        let spinLimit = 20_000

        init(workers: Int) {
            self.workers = workers
            mutex = .allocate(capacity: 1)
            wake = .allocate(capacity: 1)
            pthread_mutex_init(mutex, nil)
            pthread_cond_init(wake, nil)
        }

        deinit {
            pthread_cond_destroy(wake)
            pthread_mutex_destroy(mutex)
            mutex.deallocate()
            wake.deallocate()
        }

        /// Tells the workers to exit and waits until they have.
        func stop() {
            stopping.store(true, ordering: .sequentiallyConsistent)
            generation.add(1, ordering: .sequentiallyConsistent)
            wakeSleepers(force: true)
            while exited.load(ordering: .acquiring) < workers { sched_yield() }
        }

        func wakeSleepers(force: Bool) {
            if force || sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_broadcast(wake)
                pthread_mutex_unlock(mutex)
            }
        }

        func run(_ count: Int, _ body: @escaping (Int, Int) -> Void) {
            self.body = body
            taskCount = count
            grain = max(1, count / ((workers + 1) * 8))
            nextTask.store(0, ordering: .relaxed)
            pendingWorkers.store(workers, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            wakeSleepers(force: false)
            runTasks(worker: 0)
            // A worker still busy was probably preempted: after a short spin, yield this core so
            // it can finish (on a loaded machine spinning here would stall the loop for a whole
            // scheduler slice).
            var spins = 0
            while pendingWorkers.load(ordering: .acquiring) > 0 {
                spins += 1
                if spins < 2_000 { spinPause() } else { sched_yield() }
            }
            self.body = nil
        }

        func runTasks(worker: Int) {
            guard let body else { return }
            let g = grain
            while true {
                let first = nextTask.wrappingAdd(g, ordering: .relaxed).oldValue
                if first >= taskCount { return }
                for i in first..<min(first + g, taskCount) { body(i, worker) }
            }
        }

        func workerLoop(worker: Int) {
            var seen = 0
            while true {
                var spins = 0
                while generation.load(ordering: .acquiring) == seen {
                    spins += 1
                    if spins < spinLimit { spinPause(); continue }
                    pthread_mutex_lock(mutex)
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    while generation.load(ordering: .sequentiallyConsistent) == seen {
                        pthread_cond_wait(wake, mutex)
                    }
                    sleepers.subtract(1, ordering: .sequentiallyConsistent)
                    pthread_mutex_unlock(mutex)
                }
                seen = generation.load(ordering: .acquiring)
                if stopping.load(ordering: .acquiring) { break }
                runTasks(worker: worker)
                pendingWorkers.subtract(1, ordering: .releasing)
            }
            exited.add(1, ordering: .releasing)
        }
    }
}

@inline(__always) private func spinPause() {
    #if arch(x86_64) || arch(i386)
    _mm_pause_compat()
    #endif
}

@inline(__always) private func _mm_pause_compat() {
    // A few no-op iterations stand in for PAUSE, which Swift cannot emit directly.
    var x = 0
    for _ in 0..<4 { x &+= 1 }
    _ = x
}
