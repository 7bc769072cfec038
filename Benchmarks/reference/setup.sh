#!/usr/bin/env bash
# Creates Benchmarks/reference/.venv (git-ignored) with PyTorch, JAX and numpy for the reference scripts.
# Never needed by the tests or CI. Usage: bash Benchmarks/reference/setup.sh [PYTHON]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${1:-python3}"
if [ ! -x "$here/.venv/bin/python" ]; then
    "$python" -m venv "$here/.venv"
fi
# The CPU wheels of torch are enough; the default index's torch also runs on CPU, only larger.
"$here/.venv/bin/pip" install --quiet --upgrade pip
"$here/.venv/bin/pip" install --quiet -r "$here/requirements.txt"
"$here/.venv/bin/python" -c 'import torch, jax, numpy; print("torch", torch.__version__, "jax", jax.__version__, "numpy", numpy.__version__)'
