#!/usr/bin/env bash
# The plugin author's path end to end, as a new user takes it: `gradfeat new-plugin extractor`, then the new
# package's release build, its `swift test` (the conformance kit), `train` with its extractor beside the built-ins,
# and `eval --run`. Needs the release build of this checkout (`swift build -c release`).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$root/.build/release/gradfeat" new-plugin extractor probe-ext --output "$work/probe-ext" > /dev/null
# The DocC tutorial shows these files as the scaffold writes them; a template change must update the tutorial.
tutorial="$root/Sources/GradFeat/GradFeat.docc/Resources"
for pair in Sources/ProbeExt/ProbeExtExtractor.swift:ProbeExtExtractor.swift Sources/ProbeExtCLI/main.swift:ProbeExtCLI-main.swift \
    Tests/ProbeExtTests/ProbeExtConformanceTests.swift:ProbeExtConformanceTests.swift; do
    diff -u "$tutorial/${pair#*:}" "$work/probe-ext/${pair%%:*}" \
        || { echo "scaffold: the tutorial's ${pair#*:} differs from what new-plugin writes; copy it over"; exit 1; }
done
cd "$work/probe-ext"
# What it writes is formatted as this repository is, for a long name that sorts first among the imports too.
swift format lint --strict --configuration "$root/.swift-format" --recursive Sources Tests
"$root/.build/release/gradfeat" new-plugin extractor abc-very-long-plugin-name-of-a-lab --output "$work/long" > /dev/null
swift format lint --strict --configuration "$root/.swift-format" --recursive "$work/long/Sources" "$work/long/Tests"
swift build -c release 2>&1 | tail -1
swift test 2>&1 | tail -1
data=()
[ -n "${GRADFEAT_DATA_DIR:-}" ] || { [ -d "$root/../shared/datasets" ] && data=(--data-dir "$root/../shared/datasets"); }
swift run -c release probe-ext train --extractor activation,probe-ext,gradfeat --extractor-option probe-ext.width=128 \
    --train-size 1000 --test-size 500 --niter 50 --output runs/probe-ext --quiet "${data[@]}" | grep '^| '
swift run -c release probe-ext eval --run runs/probe-ext --quiet | grep '^| probe-ext'
echo "scaffold: 1 passed, 0 failed"
