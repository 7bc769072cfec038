gradfeat new-plugin extractor probe-ext --output ../probe-ext
cd ../probe-ext
swift build -c release
