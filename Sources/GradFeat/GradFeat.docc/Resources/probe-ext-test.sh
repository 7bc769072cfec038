gradfeat new-plugin extractor probe-ext --output ../probe-ext
cd ../probe-ext
swift build -c release
swift test                        # the conformance kit: gradients, determinism, checkpoints, shapes
