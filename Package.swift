// swift-tools-version:6.2
import PackageDescription

/// Settings every Swift target shares (STYLE 2.4). The two C wrappers may hold unsafe code, so only the
/// other targets turn strict-memory-safety warnings into errors.
let common: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .strictMemorySafety(),
]
let safe: [SwiftSetting] = common + [.treatWarning("StrictMemorySafety", as: .error)]

let package = Package(
    name: "Flowline",
    products: [
        .library(name: "Flowline", targets: ["Flowline"]),
        .executable(name: "flowlined", targets: ["flowlined"]),
        .executable(name: "flowline", targets: ["flowline"]),
        .executable(name: "flowline-bench", targets: ["flowline-bench"]),
        .executable(name: "flowline-recovery", targets: ["flowline-recovery"]),
        .executable(name: "flowline-examples", targets: ["flowline-examples"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    ],
    targets: [
        .systemLibrary(name: "CLibUV", pkgConfig: "libuv", providers: [.apt(["libuv1-dev"])]),
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        // glibc's malloc tunables, for the daemon's executable only.
        .systemLibrary(name: "CMalloc"),
        .target(name: "FlowlineUV", dependencies: ["CLibUV"], swiftSettings: common),
        .target(name: "FlowlineLMDB", dependencies: ["CLMDB"], swiftSettings: common),
        .target(name: "FlowlineCore", swiftSettings: safe),
        // HTTP/1.1 requests and answers and the Prometheus text format, as bytes: the daemon serves them on its loop.
        .target(name: "FlowlineHTTP", swiftSettings: safe),
        .target(name: "FlowlineProtocol", dependencies: ["FlowlineCore"], swiftSettings: safe),
        // `Lifetimes` lets `ByteReader` hold a `Span` of a record (`@_lifetime`), so that replay decodes records where
        // LMDB keeps them; Swift 6.3 still marks lifetime annotations experimental.
        .target(
            name: "FlowlineJournal", dependencies: ["FlowlineCore", "FlowlineLMDB"],
            swiftSettings: safe + [.enableExperimentalFeature("Lifetimes")]
        ),
        .target(
            name: "FlowlineServer",
            dependencies: [
                "FlowlineCore", "FlowlineProtocol", "FlowlineJournal", "FlowlineUV", "FlowlineHTTP",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: safe
        ),
        .target(
            name: "Flowline",
            dependencies: [
                "FlowlineProtocol", "FlowlineUV",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: safe
        ),
        .executableTarget(
            name: "flowlined",
            dependencies: [
                "CMalloc", "FlowlineServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: safe
        ),
        .executableTarget(
            name: "flowline",
            dependencies: [
                "Flowline", "FlowlineJournal", "FlowlineCore", "FlowlineProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: safe
        ),
        .executableTarget(
            name: "flowline-bench",
            dependencies: [
                "Flowline", "FlowlineTestSupport", "FlowlineProtocol", "FlowlineUV", "FlowlineCore", "FlowlineJournal",
            ],
            path: "tools/benchmark",
            swiftSettings: common
        ),
        .executableTarget(
            name: "flowline-recovery",
            dependencies: ["FlowlineTestSupport", "FlowlineProtocol", "FlowlineUV"],
            path: "tools/recovery",
            swiftSettings: common
        ),
        // The seeds' examples on the Swift client: workflows and handlers in a library the tests run too, and the
        // `flowline-examples` executable that tools/demo runs.
        .target(
            name: "FlowlineExamples", dependencies: ["Flowline", "FlowlineProtocol"],
            path: "tools/examples/swift/FlowlineExamples", swiftSettings: safe
        ),
        .executableTarget(
            name: "flowline-examples", dependencies: ["FlowlineExamples", "Flowline", "FlowlineProtocol"],
            path: "tools/examples/swift/flowline-examples", swiftSettings: safe
        ),
        .target(
            name: "FlowlineTestSupport",
            dependencies: ["Flowline", "FlowlineCore", "FlowlineProtocol", "FlowlineUV"],
            path: "Tests/FlowlineTestSupport",
            swiftSettings: common
        ),
        // Fuzz targets (tools/fuzz/run builds them with -sanitize=fuzzer); a plain build makes corpus replayers.
        .target(
            name: "FlowlineFuzz", dependencies: ["FlowlineCore", "FlowlineProtocol"], path: "tools/fuzz/Harness",
            swiftSettings: common
        ),
        .executableTarget(name: "FuzzLine", dependencies: ["FlowlineFuzz"], path: "tools/fuzz/FuzzLine", swiftSettings: common),
        .executableTarget(
            name: "FuzzWorkflow", dependencies: ["FlowlineFuzz"], path: "tools/fuzz/FuzzWorkflow", swiftSettings: common
        ),
        // The crash torture (tools/torture runs it; TortureTests runs a short form).
        .executableTarget(
            name: "FlowlineTorture", dependencies: ["FlowlineTestSupport"], path: "tools/TortureRunner",
            swiftSettings: common
        ),
        .testTarget(name: "FlowlineCoreTests", dependencies: ["FlowlineCore", "FlowlineTestSupport"], swiftSettings: common),
        .testTarget(
            name: "FlowlineProtocolTests", dependencies: ["FlowlineProtocol", "FlowlineFuzz"], swiftSettings: common
        ),
        .testTarget(
            name: "FlowlineJournalTests",
            dependencies: ["FlowlineJournal", "FlowlineLMDB"],
            // Journals written by older builds, which the tests open by path.
            exclude: ["Fixtures"],
            swiftSettings: common
        ),
        .testTarget(name: "FlowlineUVTests", dependencies: ["FlowlineUV"], swiftSettings: common),
        // The server's plain values (the outbox, housekeeping) driven by a fake clock; no loop, no journal.
        .testTarget(
            name: "FlowlineServerTests", dependencies: ["FlowlineServer", "FlowlineCore", "FlowlineProtocol"],
            swiftSettings: common
        ),
        .testTarget(name: "FlowlineHTTPTests", dependencies: ["FlowlineHTTP"], swiftSettings: common),
        .testTarget(
            name: "FlowlineClientTests",
            dependencies: [
                "Flowline", "FlowlineTestSupport", "flowlined", "FlowlineProtocol", "FlowlineExamples", "flowline-examples",
            ],
            swiftSettings: common
        ),
        .testTarget(
            name: "FlowlineIntegrationTests",
            dependencies: ["FlowlineTestSupport", "flowlined", "FlowlineProtocol", "FlowlineCore", "FlowlineServer", "FlowlineUV", "Flowline"],
            swiftSettings: common
        ),
        .testTarget(
            name: "FlowlineAdminTests",
            dependencies: [
                "FlowlineTestSupport", "Flowline", "flowline", "flowlined", "FlowlineProtocol", "FlowlineJournal", "FlowlineCore",
            ],
            swiftSettings: common
        ),
    ]
)
