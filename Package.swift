// swift-tools-version:6.0
import PackageDescription

/// Release builds of the libraries target AVX2 + FMA (x86-64-v3, every x86 CPU since 2013–2015): the
/// engine's kernels are written for 8-wide FMA. The executable itself stays generic so that it can
/// say so clearly on an older CPU instead of dying on an illegal instruction.
let optimize: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-target-cpu", "haswell"], .when(configuration: .release))]
let optimizeGeneric: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]

let package = Package(
    name: "DeepScope",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "deepscope", targets: ["deepscope"]),
        .executable(name: "deepscope-bench-capture", targets: ["deepscope-bench-capture"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0"),
    ],
    targets: [
        // MARK: - C libraries
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CTurboJPEG", path: "Sources/CTurboJPEG", pkgConfig: "libturbojpeg",
                       providers: [.apt(["libturbojpeg0-dev"])]),

        .systemLibrary(name: "CV4L2", path: "Sources/CV4L2", pkgConfig: "libv4l2",
                       providers: [.apt(["libv4l-dev"])]),
        .systemLibrary(name: "CFFmpeg", path: "Sources/CFFmpeg", pkgConfig: "libavformat",
                       providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev"])]),
        .systemLibrary(name: "CSDL2", path: "Sources/CSDL2", pkgConfig: "sdl2",
                       providers: [.apt(["libsdl2-dev", "libsdl2-ttf-dev"])]),
        /// Process-wide heap allocation counting for `bench` (defines malloc & co. in the executable).
        .target(name: "CAllocationCounter", path: "Sources/CAllocationCounter"),

        // MARK: - Libraries (each imports only targets below it: see DESIGN.md)
        /// Threads, locks, the clock, the triple buffer, the atomic file writer, the error protocol.
        .target(name: "Support", swiftSettings: optimize),
        /// FFmpeg's error text and log switch, shared by Capture (video files) and Recording (MP4).
        .target(name: "FFmpegSupport", dependencies: ["CFFmpeg"], swiftSettings: optimize),
        .target(name: "Engine", dependencies: ["CBLAS", "Support"], swiftSettings: optimize),
        .target(name: "ModelIO",
                dependencies: ["Engine", "Support", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                exclude: ["onnx.proto"], swiftSettings: optimize),
        /// The geometry of representations: TwoNN intrinsic dimension, PCA spectrum, layer sampling.
        .target(name: "Analysis", dependencies: ["Engine", "CBLAS", "Support"], swiftSettings: optimize),
        .target(name: "Imaging", dependencies: ["CPNG", "CTurboJPEG", "Support"], swiftSettings: optimize),
        .target(name: "Visualization", dependencies: ["Engine", "Imaging"], swiftSettings: optimize),
        .target(name: "Interface", dependencies: ["Visualization", "Engine", "CSDL2", "Support"], swiftSettings: optimize),
        .target(name: "Capture", dependencies: ["Imaging", "CV4L2", "CFFmpeg", "FFmpegSupport", "Support"], swiftSettings: optimize),
        .target(name: "Recording", dependencies: ["CFFmpeg", "FFmpegSupport", "Support"], swiftSettings: optimize),
        .target(name: "Daemon", dependencies: ["Engine", "ModelIO", "Imaging", "Capture", "Visualization", "Interface", "Recording", "Support"],
                swiftSettings: optimize),

        // MARK: - Test doubles (linked by the tests and the benchmarks, never by the product)
        /// The emulated V4L2 device and its camera models.
        .target(name: "CaptureTesting", dependencies: ["Capture", "CV4L2", "Support"], swiftSettings: optimize),

        // MARK: - The command line
        /// The one mapping from errors to stderr and exit statuses, for both executables.
        .target(name: "CommandLineSupport",
                dependencies: ["Support", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "deepscope",
                          dependencies: ["Engine", "ModelIO", "Imaging", "Capture", "Daemon", "Visualization", "Interface", "Recording", "Support",
                                         "Analysis", "CommandLineSupport", "CAllocationCounter", .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          // Swift 5 mode: the command line touches C globals (stdout) directly.
                          swiftSettings: optimizeGeneric + [.swiftLanguageMode(.v5)]),
        /// `deepscope-bench-capture`: the capture path measured on the emulated camera and video files.
        .executableTarget(name: "deepscope-bench-capture",
                          dependencies: ["Capture", "CaptureTesting", "CommandLineSupport", "Daemon", "ModelIO", "Support", "CAllocationCounter",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          swiftSettings: optimizeGeneric + [.swiftLanguageMode(.v5)]),

        // MARK: - Tests
        .target(name: "TestSupport", dependencies: ["Engine", "Support"], path: "Tests/TestSupport"),
        .testTarget(name: "SupportTests", dependencies: ["Support"]),
        .testTarget(name: "AnalysisTests", dependencies: ["Analysis", "Engine", "TestSupport"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "TestSupport"]),
        .testTarget(name: "ModelIOTests", dependencies: ["ModelIO", "Engine", "TestSupport"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging"], exclude: ["Fixtures"]),
        .testTarget(name: "VisualizationTests", dependencies: ["Visualization", "Engine", "Imaging", "TestSupport"]),
        .testTarget(name: "InterfaceTests", dependencies: ["Interface", "Visualization", "Engine", "Imaging"],
                    exclude: ["Golden"]),
        .testTarget(name: "CaptureTests", dependencies: ["Capture", "CaptureTesting", "CV4L2", "Imaging", "Support", "TestSupport"]),
        .testTarget(name: "DaemonTests", dependencies: ["Daemon", "Capture", "CaptureTesting", "Engine", "Imaging", "Interface", "ModelIO",
                                                        "Support", "Visualization", "TestSupport"]),
        .testTarget(name: "RecordingTests", dependencies: ["Recording", "Support"]),
        .testTarget(name: "CLITests"),
    ]
)
