#!/usr/bin/env bash
# The test suite under sanitizers, kept out of every CI run (each build takes minutes):
#   address  the whole suite under AddressSanitizer (with its leak checker)
#   thread   the tests that exercise every thread — the Parallel workers, the HDF5 lock, the image-decoding
#            threads, convolutions on several cores, training and caching — under ThreadSanitizer
#
#   scripts/sanitize.sh [address] [thread]        (default: both)
#
# Release builds (the numeric tests are slow in debug), each in its own scratch folder. Leaks reported inside
# libhdf5 or OpenBLAS (their process-lifetime caches) are listed by scripts/lsan-suppressions.txt, not counted.
set -euo pipefail
cd "$(dirname "$0")/.."
kinds=("$@")
[ ${#kinds[@]} -eq 0 ] && kinds=(address thread)
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan-suppressions.txt:print_suppressions=1"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
# The Swift runtime's own crash backtracer spins under the sanitizers' exit handling: they print the report.
export SWIFT_BACKTRACE=enable=no
# The threads TSan must see: suites that run work on several threads.
# (swift test --filter matches type names, not the suites' display names.)
THREAD_FILTER='ConcurrencyTests|TensorTests|ConvolutionTests|ImageFolderTests|DatasetCacheTests|TrainerTests|RunDirectoryTests|StorageTests|SolverTests'
for kind in "${kinds[@]}"; do
    scratch=".build-$kind"
    echo "sanitize: building with --sanitize $kind in $scratch" >&2
    swift build -c release --sanitize "$kind" -Xswiftc -enable-testing --build-tests --scratch-path "$scratch"
    case "$kind" in
        address) swift test -c release --sanitize address -Xswiftc -enable-testing --skip-build --scratch-path "$scratch" ;;
        thread) swift test -c release --sanitize thread -Xswiftc -enable-testing --skip-build --scratch-path "$scratch" \
                    --filter "$THREAD_FILTER" ;;
        *) echo "sanitize: unknown kind '$kind' (address, thread)" >&2; exit 2 ;;
    esac
    echo "sanitize: $kind passed" >&2
done
