gradfeat new-plugin extractor probe-ext --output ../probe-ext
cd ../probe-ext
swift build -c release
swift test                        # the conformance kit: gradients, determinism, checkpoints, shapes
swift run -c release probe-ext list
swift run -c release probe-ext train --extractor activation,probe-ext,gradfeat \
    --extractor-option probe-ext.width=1024 --train-size 2000 --niter 300 --output runs/probe-ext
swift run -c release probe-ext eval --run runs/probe-ext
