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

/// Where V4L2 calls go: libv4l2, or — when `DEEPSCOPE_EMULATED_CAMERAS=N` is set — N emulated
/// webcams at /dev/video0… (for demonstrations and end-to-end checks on machines without a camera).
enum CameraSystem {
    static let current: any VideoDeviceSystem = {
        let environment = ProcessInfo.processInfo.environment
        guard let text = environment["DEEPSCOPE_EMULATED_CAMERAS"], let count = Int(text), count > 0 else {
            return LibV4L2System()
        }
        let system = EmulatedVideoSystem()
        for i in 0..<min(count, 16) {
            var model = EmulatedCameraModel.webcam()
            model.busInfo = "usb-emulated-\(i + 1)"
            system.plug("/dev/video\(i)", model: model)
        }
        return system
    }()
}
