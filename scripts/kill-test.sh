#!/usr/bin/env bash
# Crash safety, tested: kills `cache`, `train` (with checkpoints) and `pretrain` with SIGKILL at random moments,
# many times, and checks after every kill that each file under a final name opens and equals the one an
# uninterrupted run writes (or is absent), that stale temporary files do not pile up, and that `train --resume`
# after all the kills ends with parameters and optimiser state bit-identical to an uninterrupted run.
#
#   scripts/kill-test.sh [--kills N] [--seed S]      (default 20 kills of each command; needs h5diff, h5dump)
#
# Uses $GRADFEAT (default .build/release/gradfeat) and Fashion-MNIST (Debian's dataset-fashion-mnist).
set -euo pipefail
cd "$(dirname "$0")/.."
KILLS=20
SEED=1
while [ $# -gt 0 ]; do
    case "$1" in
        --kills) KILLS="$2"; shift 2 ;;
        --seed) SEED="$2"; shift 2 ;;
        *) echo "usage: $0 [--kills N] [--seed S]" >&2; exit 2 ;;
    esac
done
GRADFEAT="${GRADFEAT:-$PWD/.build/release/gradfeat}"
FASHION="${FASHION:-/usr/share/datasets/fashion-mnist}"
for tool in h5diff h5dump "$GRADFEAT"; do
    command -v "$tool" >/dev/null || { echo "kill-test: $tool not found" >&2; exit 2; }
done
WORK="$(mktemp -d /tmp/gradfeat-kill-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
RANDOM=$SEED
failures=0
landed=0  # kills that hit a running process (the others came after it had finished)
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# Runs "$@" in the background and kills it with SIGKILL after a random 0.05–(MAX) s; returns nothing.
kill_randomly() {
    local max_ms=$1; shift
    "$@" >/dev/null 2>&1 &
    local pid=$!
    sleep "$(awk -v r=$RANDOM -v m="$max_ms" 'BEGIN { printf "%.3f", (50 + r % m) / 1000 }')"
    if kill -9 "$pid" 2>/dev/null; then landed=$((landed + 1)); fi
    wait "$pid" 2>/dev/null || true
}

# Every .h5 under a final name in folder $1 must open (h5dump reads its whole structure).
check_opens() {
    local f
    for f in "$1"/*.h5; do
        [ -e "$f" ] || continue
        h5dump -H "$f" >/dev/null 2>&1 || fail "$f does not open after a kill"
    done
}

# Temporary files of killed processes are removed by the next write: never more than one (the last kill's).
check_temporaries() {
    local count
    count=$(find "$1" -maxdepth 1 -name '*.tmp-*' | wc -l)
    [ "$count" -le 1 ] || fail "$count temporary files left in $1"
}

# A file under a final name is either absent or identical (every dataset and attribute) to the reference.
check_whole() {
    [ -e "$2" ] || return 0
    h5diff "$1" "$2" >/dev/null 2>&1 || fail "$2 differs from the uninterrupted run's $1"
}

echo "kill-test: $KILLS kills each of cache, pretrain and train (seed $SEED) in $WORK"

# kills_of NAME MAX_MS REFERENCE CMD...: writes REFERENCE with CMD --output REFERENCE uninterrupted, then kills
# CMD --output WORK/NAME/FILE $KILLS times; after each kill the file is absent or equals the reference.
kills_of() {
    local name=$1 max_ms=$2 reference=$3; shift 3
    local target="$WORK/$name/$(basename "$reference")"
    "$GRADFEAT" "$@" --output "$reference" >/dev/null
    mkdir -p "$WORK/$name"
    for _ in $(seq "$KILLS"); do
        kill_randomly "$max_ms" "$GRADFEAT" "$@" --output "$target"
        check_whole "$reference" "$target"
        check_temporaries "$WORK/$name"
    done
    echo "$name: $KILLS kills"
}

# 1. cache: the data-set cache is absent or whole after every kill.
kills_of cache 600 "$WORK/reference.h5" cache --format fashion-mnist --source "$FASHION" --split test --quiet

# 2. pretrain: the weights file is absent or the uninterrupted run's.
DATA=(--dataset "$WORK/reference.h5" --test-fraction 0.2 --model bigan-small --seed 3)
kills_of pretrain 3000 "$WORK/weights.h5" pretrain "${DATA[@]}" --method rotation --niter 40 --quiet

# 3. train with checkpoints every 5 iterations, resumed after every kill; the end equals an uninterrupted run.
TRAIN=(train "${DATA[@]}" --weights "$WORK/weights.h5" --extractor activation,gradfeat --niter 600
       --checkpoint-every 5 --eval-every 200 --train-size 1024 --test-size 256 --quiet)
"$GRADFEAT" "${TRAIN[@]}" --output "$WORK/reference-run"
for _ in $(seq "$KILLS"); do
    kill_randomly 6000 "$GRADFEAT" "${TRAIN[@]}" --output "$WORK/run" --resume
    check_opens "$WORK/run"
    check_temporaries "$WORK/run"
done
"$GRADFEAT" "${TRAIN[@]}" --output "$WORK/run" --resume
for extractor in activation gradfeat; do
    for group in /parameters /optimizer; do
        h5diff "$WORK/reference-run/$extractor.h5" "$WORK/run/$extractor.h5" "$group" >/dev/null 2>&1 \
            || fail "$extractor.h5 $group after $KILLS kills and --resume differs from the uninterrupted run"
    done
done
echo "train: $KILLS kills, then --resume"

if [ "$failures" -gt 0 ]; then
    echo "kill-test: $failures failures"
    exit 1
fi
echo "kill-test: passed ($((3 * KILLS)) kills, $landed of them while the command ran; resumed parameters bit-identical)"
