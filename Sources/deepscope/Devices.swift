import ArgumentParser
import Capture
import Foundation

struct Devices: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Lists the cameras (V4L2 video capture devices) with their formats, frame sizes and frame rates.")

    @Flag(name: .long, help: "One JSON object: {\"cameras\": [{\"path\", \"card\", \"driver\", \"bus\", \"formats\": [...]}]}.")
    var json = false

    func run() throws {
        let cameras = CameraProbe.cameras(system: CameraSystem.current)
        if json {
            print(try JSONLine.encode(["cameras": cameras.map(\.jsonObject)]))
            return
        }
        if cameras.isEmpty {
            print("No cameras found (no V4L2 video capture device under /dev/video*).")
            return
        }
        for camera in cameras {
            for line in camera.lines { print(line) }
        }
    }
}

/// Where V4L2 calls go: libv4l2, the machine's cameras. (The emulated cameras are a test double:
/// they live in the CaptureTesting target, which the product does not link.)
enum CameraSystem {
    static let current: any VideoDeviceSystem = LibV4L2System()
}
