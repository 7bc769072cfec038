#!/usr/bin/env bash
# Checks `gradfeat attribute` end to end on real data against refitting without each training image, done
# independently: the activation model trained by `gradfeat train --parametrization standard --no-standardize
# --loss mse --solver cg --wd λ`, its scores for the first test images against ridge regression on the features
# `gradfeat extract --features activation` writes, re-solved in Float64 by numpy without each of a seeded sample of
# training images (scripts/check_attribution.py), to 1e-3 relative.
#
#   scripts/check-attribution.sh [--wd λ] [--test-size n] [--refits m]     (needs python3 with numpy, and h5dump)
#
# Fashion-MNIST (from $GRADFEAT_DATA_DIR or /usr/share/datasets/fashion-mnist): bigan-small pre-trained here for
# 100 rotation iterations, the 60,000 training and 10,000 test images.
set -euo pipefail
cd "$(dirname "$0")/.."
lambda=1e-3
test_size=20
refits=200
while [ $# -gt 0 ]; do
    case "$1" in
        --wd) lambda=$2; shift 2 ;;
        --test-size) test_size=$2; shift 2 ;;
        --refits) refits=$2; shift 2 ;;
        *) echo "check-attribution.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
gradfeat=${GRADFEAT:-.build/release/gradfeat}
[ -x "$gradfeat" ] || swift build -c release --product gradfeat
source_dir=${GRADFEAT_DATA_DIR:+$GRADFEAT_DATA_DIR/fashion-mnist}
[ -n "$source_dir" ] && [ -d "$source_dir" ] || source_dir=/usr/share/datasets/fashion-mnist
work=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/gradfeat-attribution.XXXXXX")}
[ -n "${WORK:-}" ] || trap 'rm -rf "$work"' EXIT

for split in train test; do
    "$gradfeat" cache --format fashion-mnist --source "$source_dir" --split $split --output "$work/$split.h5" >/dev/null
done
"$gradfeat" pretrain --model bigan-small --dataset "$work/train.h5" --method rotation --niter 100 --quiet \
    --output "$work/weights.h5"
"$gradfeat" train --model bigan-small --weights "$work/weights.h5" --dataset "$work/train.h5" \
    --test-dataset "$work/test.h5" --extractor activation --parametrization standard --no-standardize \
    --loss mse --solver cg --wd "$lambda" --tol 1e-9 --niter 2000 --eval-every 0 --quiet --output "$work/run"
"$gradfeat" attribute --run "$work/run" --test-size "$test_size" --top-k 10 --output "$work/attribution.h5" \
    --html "$work/attribution.html" --quiet
for split in train test; do
    "$gradfeat" extract --model bigan-small --weights "$work/weights.h5" --features activation \
        --input "$work/$split.h5" --output "$work/features-$split.h5" 2>/dev/null
done
python3 scripts/check_attribution.py "$work" "$lambda" "$refits"
