#!/usr/bin/env bash
# Builds SampleGradientBench (release, its own scratch path) and runs it beside the PyTorch reference, printing the
# ratios. Arguments go to compare_sample_gradients.py (e.g. --rounds 3 --seconds 2).
# Uses Benchmarks/reference/.venv (bash Benchmarks/reference/setup.sh), or the python in $REFERENCE_PYTHON.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${REFERENCE_PYTHON:-$here/.venv/bin/python}"
(cd "$root" && swift build -c release --scratch-path .build-bench --product SampleGradientBench)
exec "$python" "$here/compare_sample_gradients.py" --samplebench "$root/.build-bench/release/SampleGradientBench" \
    --python "$python" "$@"
