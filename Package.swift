// swift-tools-version:6.0
// GradFeat: gradients as features for deep representation learning (Mu, Liang, Li, ICLR 2020), in Swift.
import PackageDescription

let package = Package(
    name: "GradFeat",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "GradFeat", targets: ["GradFeat"]),
        .library(name: "Tensor", targets: ["Tensor"]),
        .library(name: "Layers", targets: ["Layers"]),
        .library(name: "HDF5", targets: ["HDF5"]),
        .library(name: "Cluster", targets: ["Cluster"]),
        .library(name: "Datasets", targets: ["Datasets"]),
        // How GradFeat's log records look: a progress bar on a terminal, lines in a log, JSON with --log-format json.
        .library(name: "GradFeatLogging", targets: ["GradFeatLogging"]),
        // Every `gradfeat` command as a library: a plugin package's own executable registers its plugins and runs it.
        .library(name: "GradFeatCLI", targets: ["GradFeatCLI"]),
        // The conformance kit plugin authors run from their tests.
        .library(name: "GradFeatTesting", targets: ["GradFeatTesting"]),
        .executable(name: "gradfeat", targets: ["gradfeat"]),
        .plugin(name: "CacheDataset", targets: ["CacheDataset"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Config files: YAML 6 (5.x crashes on deeply nested input).
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        // Logging: the libraries log through swift-log; executables choose the handler (1.16.2: `log(event:)` alone suffices).
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // API documentation: `swift package generate-documentation` (a command plugin; nothing of it is linked).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
    ],
    targets: [
        // MARK: - System libraries (C shims for what Swift cannot import directly)
        .systemLibrary(
            name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CRuntime", path: "Sources/CRuntime"),
        .systemLibrary(
            name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5",
            providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CLZMA", path: "Sources/CLZMA", pkgConfig: "liblzma",
            providers: [.apt(["liblzma-dev"])]),
        .systemLibrary(
            name: "CJPEG", path: "Sources/CJPEG", pkgConfig: "libjpeg",
            providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(
            name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"])]),

        // Open MPI, opened at run time (dlopen): nothing to install to build; `mpirun` runs need openmpi-bin.
        .target(name: "CMPI", path: "Sources/CMPI", linkerSettings: [.linkedLibrary("dl")]),

        // MARK: - C kernels (one source, AVX-512 / AVX2 / baseline builds picked at run time)
        .target(name: "CKernels", path: "Sources/CKernels"),

        // MARK: - Public API
        .target(name: "Tensor", dependencies: ["CBLAS", "CRuntime", "CKernels"], path: "Sources/Tensor"),
        .target(name: "Layers", dependencies: ["Tensor"], path: "Sources/Layers"),
        .target(name: "HDF5", dependencies: ["CHDF5"], path: "Sources/HDF5"),
        // The processes of a job: one, or the ranks mpirun started (docs/DISTRIBUTED.md).
        .target(name: "Cluster", dependencies: ["CMPI"], path: "Sources/Cluster"),
        .target(
            name: "Datasets", dependencies: ["HDF5", "CZlib", "CLZMA", "CJPEG", "CPNG"], path: "Datasets"),
        .target(
            name: "GradFeatLogging", dependencies: [.product(name: "Logging", package: "swift-log")],
            path: "Sources/GradFeatLogging"),
        .target(
            name: "GradFeat",
            dependencies: [
                "Tensor", "Layers", "HDF5", "Datasets", "GradFeatLogging", "Cluster",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/GradFeat"),
        .target(
            name: "GradFeatCLI",
            dependencies: [
                "GradFeat", "Datasets", "GradFeatLogging", "Cluster",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/GradFeatCLI"),
        .target(
            name: "GradFeatTesting", dependencies: ["GradFeat", "Layers", "Tensor"], path: "Sources/GradFeatTesting"),
        .executableTarget(name: "gradfeat", dependencies: ["GradFeatCLI"], path: "Sources/gradfeat"),

        // MARK: - Plugins
        .plugin(
            name: "CacheDataset",
            capability: .command(
                intent: .custom(
                    verb: "cache-dataset", description: "Cache a data set (or activations) to HDF5 with gradfeat cache"),
                permissions: [.writeToPackageDirectory(reason: "writes the HDF5 cache file you name with --output")]),
            dependencies: ["gradfeat"], path: "Plugins/CacheDataset"),

        // MARK: - Examples (one short executable per experiment; see Examples/README.md)
        .executableTarget(
            name: "Quickstart",
            dependencies: [
                "GradFeat", "GradFeatLogging", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/Quickstart"),
        .executableTarget(
            name: "SelfSupervised",
            dependencies: [
                "GradFeat", "GradFeatLogging", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/SelfSupervised"),
        .executableTarget(
            name: "Transfer",
            dependencies: [
                "GradFeat", "GradFeatLogging", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/Transfer"),
        .executableTarget(
            name: "Unsupervised",
            dependencies: [
                "GradFeat", "GradFeatLogging", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/Unsupervised"),
        .executableTarget(
            name: "Ablation",
            dependencies: [
                "GradFeat", "GradFeatLogging", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/Ablation"),
        .executableTarget(
            name: "CustomExtractor",
            dependencies: [
                "GradFeat", "GradFeatLogging", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/CustomExtractor"),
        .executableTarget(
            name: "Solvers",
            dependencies: [
                "GradFeat", "GradFeatLogging", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/Solvers"),

        // MARK: - Benchmarks
        .executableTarget(
            name: "ConvBench", dependencies: ["Tensor", "Layers"], path: "Benchmarks/ConvBench"),
        .executableTarget(
            name: "StepBench", dependencies: ["GradFeat", "Layers", "Tensor"], path: "Benchmarks/StepBench"),
        .executableTarget(
            name: "SolverBench", dependencies: ["GradFeat", "GradFeatLogging", "Layers", "Tensor"],
            path: "Benchmarks/SolverBench"),
        .executableTarget(
            name: "StreamBench", dependencies: ["GradFeat", "GradFeatLogging", "HDF5", "Layers", "Tensor"],
            path: "Benchmarks/StreamBench"),
        .executableTarget(
            name: "SampleGradientBench", dependencies: ["GradFeat", "Layers", "Tensor"],
            path: "Benchmarks/SampleGradientBench"),

        // MARK: - Tests
        .target(name: "TestSupport", dependencies: ["Tensor", "Layers"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "TestSupport"]),
        .testTarget(name: "LayersTests", dependencies: ["Layers", "HDF5", "TestSupport"]),
        .testTarget(name: "HDF5Tests", dependencies: ["HDF5"]),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster"]),
        // Run by scripts/check-mpi.sh under mpirun -np 1, 2 and 3: collectives, ordered sums, faults.
        .executableTarget(
            name: "cluster-check", dependencies: ["Cluster", "GradFeat", "Layers", "Tensor"],
            path: "Tests/ClusterCheck"),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "HDF5"]),
        .testTarget(
            name: "GradFeatTests",
            dependencies: [
                "GradFeat", "GradFeatTesting", "GradFeatLogging", "HDF5", "Datasets", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The command-line tool's commands end to end, on a tiny data set the tests write.
        .testTarget(
            name: "CLITests",
            dependencies: [
                "GradFeatCLI", "GradFeat", "Datasets", "Tensor", "HDF5", "TestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tests/CLITests"),
    ]
)
