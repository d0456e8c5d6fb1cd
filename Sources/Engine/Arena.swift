/// One 64-byte-aligned block of floats, allocated once, carved into regions by offset.
public final class Arena: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Float>
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = max(capacity, 16)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: self.capacity * 4, alignment: 64)
        base = raw.bindMemory(to: Float.self, capacity: self.capacity)
        base.initialize(repeating: 0, count: self.capacity)
    }

    deinit { UnsafeMutableRawPointer(base).deallocate() }

    /// Rounds an element count up so the next region stays 64-byte aligned.
    @inline(__always) public static func aligned(_ n: Int) -> Int { (n + 15) & ~15 }
}
