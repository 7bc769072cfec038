#!/usr/bin/env bash
# Builds StepBench (release, its own scratch path) and runs StepBench, PyTorch and JAX alternately on every row,
# printing the ratios. Arguments go to compare.py (e.g. --filter conv5/full --seconds 3).
# Uses Benchmarks/reference/.venv (bash Benchmarks/reference/setup.sh), or the python in $REFERENCE_PYTHON.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${REFERENCE_PYTHON:-$here/.venv/bin/python}"
(cd "$root" && swift build -c release --scratch-path .build-bench --product StepBench)
exec "$python" "$here/compare.py" --stepbench "$root/.build-bench/release/StepBench" --python "$python" "$@"
