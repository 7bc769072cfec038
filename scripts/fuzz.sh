#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of Fuzz/ (a separate package; see Fuzz/README.md), one at a time.
#
#   scripts/fuzz.sh [--seconds S] [--runs N] [--keep-going] [--no-leaks] [--no-build] [TARGET...]
#
#   --seconds S    fuzz each target for S seconds (default 15: a CI smoke test)
#   --runs N       run N inputs per target instead
#   --keep-going   fork mode: go on after a finding, so one run collects several
#   --no-leaks     do not report memory leaks (reported by default, except Foundation's and libhdf5's own,
#                  listed in Fuzz/lsan-suppressions.txt)
#   --no-build     run the binaries built last time (no build, no waiting for the build lock)
#   TARGET...      FuzzGzip FuzzTar … (default: every target)
#
# Each target runs on a copy of Fuzz/Corpus/<TARGET> (the seeds stay as they are) with
# -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10; reproducers go to Fuzz/.fuzz-artifacts/<TARGET>/
# (crash-*, timeout-*, oom-*, leak-*) with the run's log (fuzz.log) and build log (build.log). One summary line
# per target; the exit status is non-zero when a target fails to build or finds anything.
# Reproduce a finding with: Fuzz/.build-fuzz/x86_64-unknown-linux-gnu/release/<TARGET> <artifact>
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
fuzz="$root/Fuzz"
artifacts="$fuzz/.fuzz-artifacts"
all_targets=(
    FuzzCIFARBinary FuzzIDX FuzzTar FuzzGzip FuzzXZ FuzzMAT FuzzJPEG FuzzPNG FuzzImageFolder FuzzVOC FuzzCOCO
    FuzzConfigYAML FuzzConfigJSON FuzzDatasetCache FuzzActivationCache FuzzWeights FuzzCheckpoint
)

seconds=15
runs=""
keep_going=0
leaks=1
no_build=0
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --keep-going) keep_going=1; shift ;;
        --no-leaks) leaks=0; shift ;;
        --no-build) no_build=1; shift ;;
        -h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for target in "${targets[@]}"; do
    if [ ! -d "$fuzz/Corpus/$target" ]; then
        echo "fuzz.sh: no target $target (the targets are ${all_targets[*]})" >&2
        exit 2
    fi
done

# Builds never overlap with other builds on this machine (they take the same lock), and never touch .build/.
# The Swift frontend keeps only the last -sanitize= flag, and SwiftPM passes --sanitize fuzzer and --sanitize
# address as two flags in no fixed order, so Swift code would get coverage or ASan but not both: the combined
# flag, which comes last, gives both (C code and the link get them from the --sanitize options).
build=(swift build -c release --sanitize fuzzer --sanitize address -Xswiftc -sanitize=fuzzer,address
       --scratch-path "$fuzz/.build-fuzz")
limit=(-max_total_time="$seconds")
[ -z "$runs" ] || limit=(-runs="$runs")
options=(-rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 -print_final_stats=1 -detect_leaks="$leaks")
[ "$keep_going" = 0 ] || options+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
# Swift's own crash backtracer is off: under ASan it trips over its memory reads; libFuzzer prints the stack.
export SWIFT_BACKTRACE="enable=no"
export ASAN_OPTIONS="detect_leaks=$leaks:${ASAN_OPTIONS:-}"
export LSAN_OPTIONS="suppressions=$fuzz/lsan-suppressions.txt:${LSAN_OPTIONS:-}"

work=$(mktemp -d "${TMPDIR:-/tmp}/gradfeat-fuzz-corpus.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Scratch folders of fuzz processes that died without cleaning up (a crash skips their exit handler).
remove_stale_scratch() {
    local folder
    for folder in /dev/shm/gradfeat-fuzz-*; do
        [ -d "$folder" ] && ! kill -0 "${folder##*-}" 2>/dev/null && rm -rf "$folder"
    done
}

# SwiftPM plans the Fuzz package's build from the root package's files as they were when it last read the
# manifests: a source file added to the root since then is missing from the plan (and the build fails, "cannot
# find … in scope") until a manifest changes. Touch one, so every run plans from the files as they are.
[ "$no_build" = 1 ] || touch "$fuzz/Package.swift"

status=0
for target in "${targets[@]}"; do
    out="$artifacts/$target"
    mkdir -p "$out"
    # One retry: a source edited during the build (by whoever is changing the readers) fails it once.
    if [ "$no_build" = 0 ] && ! (cd "$fuzz" && flock /tmp/gradfeat-build.lock "${build[@]}" --product "$target") >"$out/build.log" 2>&1 &&
        ! (cd "$fuzz" && flock /tmp/gradfeat-build.lock "${build[@]}" --product "$target") >>"$out/build.log" 2>&1; then
        printf '%-20s BUILD FAILED, see %s\n' "$target" "$out/build.log"
        status=1
        continue
    fi
    binary="$(cd "$fuzz" && "${build[@]}" --show-bin-path)/$target"
    if [ ! -x "$binary" ]; then
        printf '%-20s NOT BUILT (run without --no-build)\n' "$target"
        status=1
        continue
    fi

    rm -rf "$work/corpus"
    cp -R "$fuzz/Corpus/$target" "$work/corpus"
    touch "$work/started"
    start=$(date +%s)
    "$binary" "${options[@]}" "${limit[@]}" -artifact_prefix="$out/" "$work/corpus" >"$work/fuzz.log" 2>&1
    code=$?
    elapsed=$(( $(date +%s) - start ))
    mv "$work/fuzz.log" "$out/fuzz.log"
    remove_stale_scratch

    # Huge allocations show up as oom-* (libFuzzer's limits) or crash-* (ASan's allocation-size-too-big).
    found() { find "$out" -maxdepth 1 -name "$1-*" -newer "$work/started"; }
    crashes=$(( $(found crash | wc -l) + $(found leak | wc -l) ))
    timeouts=$(found timeout | wc -l)
    ooms=$(found oom | wc -l)
    executed=$(grep -a 'stat::number_of_executed_units' "$out/fuzz.log" | tail -1 | awk '{print $2}')
    [ -n "$executed" ] || executed=$(grep -aoE '^#[0-9]+' "$out/fuzz.log" | tail -1 | tr -d '#')
    printf '%-20s executed %8s   crashes %d   timeouts %d   ooms %d   %4d s\n' \
        "$target" "${executed:-?}" "$crashes" "$timeouts" "$ooms" "$elapsed"
    if [ $(( crashes + timeouts + ooms )) -gt 0 ]; then
        status=1
        for kind in crash leak timeout oom; do found "$kind"; done | sed 's/^/    /'
    elif [ "$code" != 0 ]; then
        status=1
        echo "    exit status $code without a reproducer: see $out/fuzz.log"
    fi
done
exit $status
