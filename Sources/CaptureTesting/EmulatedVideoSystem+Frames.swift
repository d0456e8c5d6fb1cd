// How the emulated camera fills buffers: frames due at the frame interval (or at once when not
// paced), sequence stamps at both ends of a frame, and the test pattern in the current format.

#if canImport(Glibc)
import Glibc
#endif
import Capture
import CV4L2
import Support

extension EmulatedVideoSystem {
    /// Fills queued buffers with the frames due by `now`.
    func advance(_ device: Device, now: UInt64) {
        guard device.streaming, !device.stalled, !device.gone else { return }
        if !device.model.paced {
            while !device.incoming.isEmpty { produce(device, at: now) }
            return
        }
        let interval = device.interval
        // After a long gap (a stall, a slow reader), frames that were never captured are skipped.
        if now > device.nextDue &+ 8 &* interval {
            let missed = (now - device.nextDue) / interval
            device.sequence &+= UInt32(truncatingIfNeeded: missed)
            device.nextDue &+= missed &* interval
        }
        while device.nextDue <= now {
            if device.incoming.isEmpty {
                device.sequence &+= 1   // the driver had no buffer: the frame is lost
            } else {
                produce(device, at: device.nextDue)
            }
            device.nextDue &+= interval
        }
    }

    func produce(_ device: Device, at time: UInt64) {
        let buffer = device.buffers[device.incoming.removeFirst()]
        buffer.queued = false
        buffer.done = true
        buffer.sequence = device.sequence
        device.sequence &+= 1
        buffer.timestamp = time
        buffer.bytesUsed = device.sizeImage
        buffer.flags = 0
        if device.corruptRemaining > 0 {
            device.corruptRemaining -= 1
            buffer.flags = V4L2.bufferFlagError
        }
        // Stamp the sequence at both ends of the frame.
        var stamp = UInt64(buffer.sequence).littleEndian
        let n = EmulatedCameraModel.stampBytes
        if device.sizeImage >= 2 * n {
            withUnsafeBytes(of: &stamp) { s in
                buffer.memory.copyMemory(from: s.baseAddress!, byteCount: n)
                (buffer.memory + device.sizeImage - n).copyMemory(from: s.baseAddress!, byteCount: n)
            }
        }
        device.done.append(buffer.index)
    }

    /// Paints the test pattern into a new buffer in the device's current format.
    func paint(_ buffer: Buffer, _ device: Device) {
        let g = device.size.geometry
        let bytes = buffer.memory.assumingMemoryBound(to: UInt8.self)
        switch device.format.fourcc.layout {
        case .rgb24?, .bgr24?:
            let bgr = device.format.fourcc == .bgr24
            for y in 0..<g.height {
                let row = bytes + y * device.bytesPerLine
                for x in 0..<g.width {
                    let p = EmulatedCameraModel.patternRGB(x: x, y: y)
                    row[x * 3] = bgr ? p.b : p.r
                    row[x * 3 + 1] = p.g
                    row[x * 3 + 2] = bgr ? p.r : p.b
                }
            }
        case .yuyv?:
            for y in 0..<g.height {
                let row = bytes + y * device.bytesPerLine
                for x in stride(from: 0, to: g.width, by: 2) {
                    let p0 = EmulatedCameraModel.patternYUYV(x: x, y: y)
                    let p1 = EmulatedCameraModel.patternYUYV(x: x + 1, y: y)
                    row[x * 2] = p0.luma
                    row[x * 2 + 1] = p0.u
                    row[x * 2 + 2] = p1.luma
                    row[x * 2 + 3] = p0.v
                }
            }
        case nil:
            // A compressed format: leave the bytes zero.
            break
        }
    }
}
