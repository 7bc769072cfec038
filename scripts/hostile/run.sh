#!/usr/bin/env bash
# Hostile-input harness: feed gradfeat lying, overflowing, bomb-like and malformed inputs and check
# that it refuses each one cleanly.
#
#   GRADFEAT=/path/to/gradfeat bash scripts/hostile/run.sh [REGEX]
#
# GRADFEAT defaults to .build/release/gradfeat; REGEX (grep -E) runs only the cases whose name
# matches; HOSTILE_LIST=1 prints each case's command line instead of running it. Inputs come from
# make_inputs.py (next to this script), written into a temporary folder that is removed at the end
# (HOSTILE_KEEP=1 keeps it and prints where).
#
# Every case runs under `timeout` and an address-space cap (ulimit -v), so a runaway case can
# neither hang the harness nor make the machine swap; GNU time measures its peak RSS. A hostile
# case PASSES when gradfeat
#   - exits with a status in 1..127 (an error, not a crash by signal, not success),
#   - within HOSTILE_TIMEOUT seconds (60),
#   - with a peak RSS under HOSTILE_RSS_MB (2048),
#   - without saying it ran out of memory (a malloc refused by the cap is a memory blow-up too:
#     without the cap the process would have used that memory),
#   - and leaves nothing in its output folder: no output under its final name, no .tmp-<pid> file
#     (a run folder's .lock is allowed).
# A control case (a valid input, marked "ok") must exit 0 and write its output, so a hostile
# failure cannot come from a broken command line. Prints one line per case and exits 1 when any
# case fails.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
GRADFEAT=${GRADFEAT:-$HERE/../../.build/release/gradfeat}
TIMEOUT_S=${HOSTILE_TIMEOUT:-60}
VMEM_MB=${HOSTILE_VMEM_MB:-4096}   # address-space cap per case (the machine must never swap)
RSS_MB=${HOSTILE_RSS_MB:-2048}     # the peak RSS a case may reach
FILTER=${1:-.}

if [ ! -x "$GRADFEAT" ]; then
    echo "run.sh: no gradfeat binary at $GRADFEAT (set GRADFEAT)" >&2
    exit 2
fi
GRADFEAT=$(cd "$(dirname "$GRADFEAT")" && pwd)/$(basename "$GRADFEAT")
TIME_BIN=""
if [ -x /usr/bin/time ] && /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then TIME_BIN=/usr/bin/time; fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gradfeat-hostile.XXXXXX")
if [ "${HOSTILE_KEEP:-0}" = 1 ]; then
    echo "inputs and outputs kept in $WORK"
else
    trap 'rm -rf "$WORK"' EXIT
fi
IN=$WORK/in
OUT=$WORK/out
mkdir -p "$IN" "$OUT"

# capped CMD...: runs CMD under the address-space cap and the timeout (-k: SIGKILL 5 s after
# SIGTERM). timeout signals its whole process group, so helpers (xz) die with the command.
capped() {
    (
        # A lower hard limit already set is a cap too; no cap at all is not acceptable.
        ulimit -v $((VMEM_MB * 1024)) 2>/dev/null || [ "$(ulimit -v)" != unlimited ] ||
            { echo "run.sh: cannot cap the address space (ulimit -v)" >&2; exit 125; }
        ulimit -c 0
        exec timeout -k 5 "$TIMEOUT_S" "$@"
    )
}

# --- inputs -------------------------------------------------------------------------------------
LIST=${HOSTILE_LIST:-0}
BASE=$IN/base/weights.h5
if [ "$LIST" = 1 ]; then
    :
elif ! TIMEOUT_S=300 capped python3 "$HERE/make_inputs.py" "$IN" >"$WORK/make.log" 2>&1; then
    echo "run.sh: make_inputs.py failed:" >&2
    cat "$WORK/make.log" >&2
    exit 2
fi
# A valid bigan-small weights file, for predict and for the weights cases (copies of it).
mkdir -p "$IN/base"
if [ "$LIST" = 1 ]; then
    :
elif [ -f "$IN/h5/valid.h5" ] && capped "$GRADFEAT" pretrain --model bigan-small --dataset "$IN/h5/valid.h5" \
        --niter 1 --output "$BASE" --quiet >"$WORK/base.log" 2>&1; then
    TIMEOUT_S=60 capped python3 "$HERE/make_inputs.py" "$IN" --weights "$BASE" >>"$WORK/make.log" 2>&1
else
    echo "base weights: could not be made (see below); predict and weights cases will fail" >&2
    cat "$WORK/base.log" >&2
fi
if [ -s "$IN/SKIPPED.txt" ]; then
    echo "not produced (make_inputs.py):"
    sed 's/^/  /' "$IN/SKIPPED.txt"
fi

# --- running one case ---------------------------------------------------------------------------
FAILED=0
COUNT=0
[ "$LIST" = 1 ] ||
    printf '%-36s %5s %7s %7s  %-22s %s\n' case exit seconds MB verdict "stderr (first error line)"

# The line of stderr that says what happened: the first error or crash line, else the first line;
# for a crash also the first frame in GradFeat's sources.
describe() {
    local file=$1 line frame
    local pattern
    line=""
    for pattern in 'Fatal error' 'runtime failure' 'Program crashed' '^Error|[Ee]rror:' '[^[:space:]]'; do
        [ -n "$line" ] || line=$(grep -m1 -E "$pattern" "$file")
    done
    frame=$(grep -m1 -oE ' at /[^ ]*/(Datasets|Sources)/[^ ]+:[0-9]+' "$file" | sed -E 's#.*/(Datasets|Sources)/#\1/#')
    line=${line//$IN/\$IN}  # shorter: the inputs' folder as $IN
    line=$(printf '%s' "$line" | tr -d '\r' | cut -c1-170)
    if [ -n "$frame" ]; then line="$line [at $frame]"; fi
    printf '%s' "$line"
}

# run NAME EXPECT ARGS...: EXPECT is "hostile" (must be refused), "ok" (a control: must succeed) or
# "bounded" (refusing or accepting are both right, e.g. valid data followed by 1 GiB of junk; only
# crashes, time and memory count). @OUT@ in ARGS is the case's own empty output folder, so anything
# found there afterwards was left by gradfeat.
run() {
    local name=$1 expect=$2
    shift 2
    echo "$name" | grep -qE -- "$FILTER" || return 0
    COUNT=$((COUNT + 1))
    if [ "$LIST" = 1 ]; then
        printf '%-36s %-8s gradfeat %s\n' "$name" "$expect" "$(echo "$*" | sed "s#$IN#\$IN#g; s#@OUT@#OUT#g")"
        return 0
    fi
    local dir=$OUT/$name args=() a
    mkdir -p "$dir"
    for a in "$@"; do args+=("${a//@OUT@/$dir}"); done
    local start end rc rss secs mb verdict="" left
    start=$(date +%s.%N)
    if [ -n "$TIME_BIN" ]; then
        capped "$TIME_BIN" -o "$dir.time" -f %M "$GRADFEAT" "${args[@]}" >"$dir.stdout" 2>"$dir.stderr" </dev/null
    else
        capped "$GRADFEAT" "${args[@]}" >"$dir.stdout" 2>"$dir.stderr" </dev/null
    fi
    rc=$?
    end=$(date +%s.%N)
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
    # GNU time writes "Command terminated by signal N" first, then %M; nothing when timeout killed it.
    rss=$( [ -f "$dir.time" ] && tail -n1 "$dir.time" | grep -E '^[0-9]+$' )
    mb=$( [ -n "$rss" ] && echo $((rss / 1024)) || echo "-" )
    left=$(cd "$dir" && find . -mindepth 1 ! -name .lock ! -type d | sed 's|^\./||' | head -3 | tr '\n' ' ')

    local why=()
    # 124: timeout's SIGTERM; after -k its SIGKILL gives 137, but so would the OOM killer: use the clock.
    if [ "$rc" = 124 ] || awk -v s="$secs" -v t="$TIMEOUT_S" 'BEGIN { exit !(s >= t) }'; then
        why+=("timeout")
    elif [ "$rc" -ge 128 ]; then
        why+=("crash:sig$((rc - 128))")
    fi
    if [ -n "$rss" ] && [ "$((rss / 1024))" -ge "$RSS_MB" ]; then why+=("rss>${RSS_MB}MB"); fi
    if grep -qiE 'out of memory|cannot allocate memory|failed to allocate|could not allocate|memory allocation failed|bad_alloc' "$dir.stderr"; then
        why+=("oom")
    fi
    if [ "$expect" = ok ]; then
        [ "$rc" = 0 ] || why+=("control-failed")
        [ -n "$left" ] || [ "$rc" != 0 ] || [ "${CONTROL_NO_OUTPUT:-}" = "$name" ] || why+=("control-no-output")
    elif [ "$expect" = hostile ] || [ "$rc" != 0 ]; then
        [ "$rc" != 0 ] || why+=("accepted")
        [ -z "$left" ] || why+=("left-output")
        case "$rc" in 125 | 126 | 127) why+=("not-run") ;; esac
    fi
    if [ ${#why[@]} = 0 ]; then
        verdict=PASS
    else
        verdict="FAIL($(IFS=,; echo "${why[*]}"))"
        FAILED=$((FAILED + 1))
    fi
    local message
    message=$(describe "$dir.stderr")
    if [ "$expect" = ok ]; then message="(control) $message"; fi
    case " ${why[*]:-} " in *" left-output "*) message="$message {left: $left}" ;; esac
    printf '%-36s %5s %7s %7s  %-22s %s\n' "$name" "$rc" "$secs" "$mb" "$verdict" "$message"
}

# --- the cases ----------------------------------------------------------------------------------
# Readers are exercised by the command a user runs on such a file: `cache` (data sets), `train`
# (configs, --dataset NAME --data-dir, data-set caches), `predict` / `eval` (caches, predictions),
# `import` / `predict` (weights).
CACHE=(cache --split train --output @OUT@/data.h5 --quiet)
TRAIN=(train --model bigan-small --extractor activation --niter 2 --batchsize 8 --eval-every 1
       --train-size 24 --test-size 8 --output @OUT@/run --quiet)
PREDICT=(predict --model bigan-small --weights "$BASE" --output @OUT@/predictions.h5)

# IDX (MNIST folders), raw and gzip-wrapped.
for v in "" -gz; do
    run "idx-valid$v" ok "${CACHE[@]}" --format mnist --source "$IN/idx/valid$v"
    for c in dims-max count-max zero-size zero-size-2^31 count-2^31 label-count label-range; do
        run "idx-$c$v" hostile "${CACHE[@]}" --format mnist --source "$IN/idx/$c$v"
    done
done

# tar archives of an image folder (train/<class>/*.jpg).
run tar-valid ok "${CACHE[@]}" --format imagefolder --source "$IN/tar/valid.tar"
run tar-valid.gz ok "${CACHE[@]}" --format imagefolder --source "$IN/tar/valid.tar.gz"
for c in octal-max octal-12-digits b256-2^40 b256-2^34 b256-intmax b256-wraps b256-negative \
         b256-negative-big pax-negative skip-2^40 truncated-header; do
    run "tar-$c" hostile "${CACHE[@]}" --format imagefolder --source "$IN/tar/$c.tar"
done
for c in b256-2^40 octal-max truncated-header; do
    run "tar-$c.gz" hostile "${CACHE[@]}" --format imagefolder --source "$IN/tar/$c.tar.gz"
done
# The CIFAR-10 JPEG archive found by --dataset cifar10 --data-dir, one member claiming 16 GiB.
run tar-cifar10-b256-2^34 hostile "${TRAIN[@]}" --dataset cifar10 --data-dir "$IN/tar/cifar-b256-2^34"

# SVHN MAT-files.
run mat-valid ok "${CACHE[@]}" --format svhn --source "$IN/mat/valid.mat"
for c in dims-overflow dims-exceed-file dims-negative; do
    run "mat-$c" hostile "${CACHE[@]}" --format svhn --source "$IN/mat/$c.mat"
done

# Image files whose header claims a huge size (alone: the first image sets the size; --size 32: each
# image is decoded, then resized).
run img-valid ok "${CACHE[@]}" --format imagefolder --source "$IN/img/valid"
for c in jpeg-65000 png-100000; do
    run "img-$c" hostile "${CACHE[@]}" --format imagefolder --source "$IN/img/$c"
    run "img-$c-size32" hostile "${CACHE[@]}" --format imagefolder --source "$IN/img/$c" --size 32
done

# Decompression bombs (each expands to 1 GiB, >= 1000x).
# The two IDX bombs are a valid 16-image file followed by 1 GiB of zeros: ignoring the tail is as
# right as refusing it, but not at the price of reading it all into memory.
run bomb-idx-gz bounded "${CACHE[@]}" --format mnist --source "$IN/bomb/idx-gz"
run bomb-idx-xz bounded "${CACHE[@]}" --format mnist --source "$IN/bomb/idx-xz"
run bomb-cifar10-bin-xz hostile cache --split test --output @OUT@/data.h5 --quiet --format cifar10 \
    --source "$IN/bomb/cifar-xz"
run bomb-tar-gz hostile "${CACHE[@]}" --format imagefolder --source "$IN/bomb/tar-gz.tar.gz"
run bomb-tar-gz-2x1g hostile "${CACHE[@]}" --format imagefolder --source "$IN/bomb/tar-gz-2x1g.tar.gz"
run bomb-svhn-mat hostile "${CACHE[@]}" --format svhn --source "$IN/bomb/svhn.mat"

# Config files (the hostile key is only in the file: the command line would win over it).
CONFIG=(train --dataset "$IN/h5/valid.h5" --output @OUT@/run --quiet --config)
run cfg-valid.yaml ok "${CONFIG[@]}" "$IN/cfg/valid.yaml"
run cfg-valid.json ok "${CONFIG[@]}" "$IN/cfg/valid.json"
for c in billion-laughs.yaml keys-600k.yaml keys-600k.json keys-under-1mib.yaml keys-under-1mib.json \
         duplicate-keys.json duplicate-keys.yaml batchsize-neg.yaml niter-neg.yaml eval-every-neg.yaml \
         stepsize-neg.yaml lr-nan.yaml lr-dot-nan.yaml lr-nan.json deep-nesting.json deep-nesting.yaml; do
    run "cfg-$c" hostile "${CONFIG[@]}" "$IN/cfg/$c"
done
# The same values on the command line.
CLI=(train --dataset "$IN/h5/valid.h5" --model bigan-small --extractor activation --train-size 24
     --test-size 8 --output @OUT@/run --quiet)
run cli-batchsize-neg hostile "${CLI[@]}" --niter 2 --batchsize=-1
run cli-niter-neg hostile "${CLI[@]}" --niter=-5
run cli-eval-every-neg hostile "${CLI[@]}" --niter 2 --eval-every=-1
run cli-stepsize-neg hostile "${CLI[@]}" --niter 2 --stepsize=-5
# stepsize 0 means a constant learning rate: accepted.
run cli-stepsize-zero ok "${CLI[@]}" --niter 2 --stepsize 0
run cli-lr-nan hostile "${CLI[@]}" --niter 2 --lr nan
# The memory budget, test-time crops and augmentation (docs/STREAMING.md, docs/METHOD.md).
run cli-memory-budget-bare hostile "${CLI[@]}" --niter 2 --memory-budget 512
run cli-memory-budget-tiny hostile "${CLI[@]}" --niter 2 --memory-budget 1KB
run cli-memory-budget-huge hostile "${CLI[@]}" --niter 2 --memory-budget 99999999TB
run cli-test-crops-unknown hostile "${CLI[@]}" --niter 2 --test-crops random:1000
run cli-augment-unknown hostile "${CLI[@]}" --niter 2 --augment rotate:90
run cli-augment-cached-split hostile "${CLI[@]}" --niter 2 --augment crop:4,flip --split conv3
# How progress and messages are written (README, "The command-line tool").
run cli-log-format-unknown hostile "${CLI[@]}" --niter 2 --log-format xml
run cli-log-format-json ok "${CLI[@]}" --niter 2 --log-format json

# Image folders: a class listed twice, a test split without one class, symlink loops.
run folder-duplicate-class hostile "${CACHE[@]}" --format imagefolder --source "$IN/folder/duplicate-class"
run folder-cifar10-valid ok "${TRAIN[@]}" --dataset cifar10 --data-dir "$IN/folder/cifar10-valid"
# Class indices come from the class folders of both splits, so the test labels stay right: accepted.
run folder-missing-test-class ok "${TRAIN[@]}" --dataset cifar10 --data-dir "$IN/folder/missing-test-class"
# Skipping the looping links and reading the real images is as right as refusing the folder.
run folder-symlink-loop bounded "${CACHE[@]}" --format imagefolder --source "$IN/folder/symlink-loop"

# Data-set caches (HDF5), each read by the three commands that take one: train --dataset, predict
# --input and cache --activations --input.
ACTIVATIONS=(cache --activations --model bigan-small --weights "$BASE" --output @OUT@/activations.h5 --quiet)
for c in valid huge-2^31 shape-overflow images-float32 labels-float64 no-class-names no-format no-count \
         count-string count-mismatch version-2 label-count label-range label-negative flags-range truncated; do
    expect=hostile
    [ "$c" = valid ] && expect=ok
    run "h5-$c-train" $expect "${TRAIN[@]}" --dataset "$IN/h5/$c.h5"
    run "h5-$c-predict" $expect "${PREDICT[@]}" --input "$IN/h5/$c.h5"
    run "h5-$c-activations" $expect "${ACTIVATIONS[@]}" --input "$IN/h5/$c.h5"
done
run h5-predictions-nan hostile eval --predictions "$IN/h5/predictions-nan.h5" --input "$IN/h5/valid.h5" \
    --output @OUT@/metrics.json

# Weights: values changed after the weights_hash was stored, and a NaN.
CONTROL_NO_OUTPUT=weights-valid-import  # import without --output writes nothing
run weights-valid-import ok import --model bigan-small --weights "$BASE"
run weights-flipped-import hostile import --model bigan-small --weights "$IN/weights/flipped.h5"
run weights-flipped-import-output hostile import --model bigan-small --weights "$IN/weights/flipped.h5" \
    --output @OUT@/weights.h5
run weights-flipped-predict hostile predict --model bigan-small --weights "$IN/weights/flipped.h5" \
    --input "$IN/h5/valid.h5" --output @OUT@/predictions.h5
run weights-nan-import hostile import --model bigan-small --weights "$IN/weights/nan.h5"
run weights-nan-predict hostile predict --model bigan-small --weights "$IN/weights/nan.h5" \
    --input "$IN/h5/valid.h5" --output @OUT@/predictions.h5

[ "$LIST" = 1 ] && exit 0
echo "$COUNT cases, $FAILED failed"
[ "$FAILED" = 0 ]
