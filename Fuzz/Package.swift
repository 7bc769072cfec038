// swift-tools-version:6.0
// libFuzzer targets for GradFeat's file readers: a separate package, so the root package (its builds, README
// commands and plugin packages) never sees it. Build and run them with scripts/fuzz.sh (see Fuzz/README.md).
import PackageDescription

/// Targets that need only the Datasets module, and those that need the GradFeat library.
let datasetTargets = [
    "FuzzCIFARBinary", "FuzzIDX", "FuzzTar", "FuzzGzip", "FuzzXZ", "FuzzMAT", "FuzzJPEG", "FuzzPNG",
    "FuzzImageFolder", "FuzzVOC", "FuzzCOCO", "FuzzDatasetCache",
]
let libraryTargets = ["FuzzConfigYAML", "FuzzConfigJSON", "FuzzActivationCache", "FuzzWeights", "FuzzCheckpoint"]

let package = Package(
    name: "GradFeatFuzz",
    platforms: [.macOS(.v15)],
    products: (datasetTargets + libraryTargets).map { .executable(name: $0, targets: [$0]) },
    dependencies: [.package(name: "GradFeat", path: "..")],
    targets: [
        .target(
            name: "FuzzSupport",
            dependencies: [
                .product(name: "Datasets", package: "GradFeat"), .product(name: "HDF5", package: "GradFeat"),
            ])
    ]
        + datasetTargets.map {
            .executableTarget(name: $0, dependencies: ["FuzzSupport", .product(name: "Datasets", package: "GradFeat")])
        }
        + libraryTargets.map {
            .executableTarget(
                name: $0,
                dependencies: [
                    "FuzzSupport", .product(name: "GradFeat", package: "GradFeat"),
                    .product(name: "Tensor", package: "GradFeat"), .product(name: "Layers", package: "GradFeat"),
                ])
        }
)
