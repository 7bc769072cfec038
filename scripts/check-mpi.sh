#!/usr/bin/env bash
# MPI check of CI (docs/DISTRIBUTED.md): the collectives under mpirun -np 1, 2 and 3 — an ordered sum whose bits must
# not depend on the number of ranks (nor on mpirun at all), allGather and broadcast — and the faults: ranks that
# disagree and a rank that throws end the job with a message naming the rank; a rank killed with SIGKILL ends it
# within 10 s. Needs Open MPI (openmpi-bin) and the release build (.build/release/cluster-check).
set -euo pipefail
cd "$(dirname "$0")/.."
check=.build/release/cluster-check
[ -x "$check" ] || { echo "mpi: $check missing; build first: swift build -c release --build-tests"; exit 1; }
command -v mpirun > /dev/null || { echo "mpi: mpirun missing; install Open MPI: apt-get install openmpi-bin"; exit 1; }
mpi=(mpirun --oversubscribe)
[ "$(id -u)" -eq 0 ] && mpi+=(--allow-run-as-root)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "mpi: FAILED: $*"; exit 1; }

expected=$("$check" sum)
for n in 1 2 3; do
    got=$(timeout 120 "${mpi[@]}" -np "$n" "$check" sum)
    [ "$got" = "$expected" ] || fail "-np $n: '$got', one process: '$expected'"
    timeout 120 "${mpi[@]}" -np "$n" "$check" gather > /dev/null || fail "allGather/broadcast at -np $n"
done
echo "mpi: ordered sum identical for 1 process and -np 1, 2, 3 ($expected); allGather and broadcast agree"

# Micro-batched training: the same parameters, bit for bit, from one process and from 1, 2 and 3 ranks (one worker
# each: the worker count slices the GEMMs; mpirun binds a rank to one core here, the single process is told).
expected=$(GRADFEAT_WORKERS=1 "$check" train | tr '\n' ' ')
for n in 1 2 3; do
    got=$(timeout 300 "${mpi[@]}" -x GRADFEAT_WORKERS=1 -np "$n" "$check" train | tr '\n' ' ')
    [ "$got" = "$expected" ] || fail "training at -np $n: '$got', one process: '$expected'"
done
echo "mpi: 20 micro-batched steps give the same parameters for 1 process and -np 1, 2, 3 ($expected)"

# A failing job must end (exit status ≠ 0) with the rank's message, well within the limit.
ends() {
    local what=$1 pattern=$2; shift 2
    local start=$SECONDS status=0
    timeout 30 "${mpi[@]}" "$@" > "$work/out" 2>&1 || status=$?
    [ "$status" -ne 0 ] && [ "$status" -ne 124 ] || fail "$what: exit status $status (124: it hung); $(tail -5 "$work/out")"
    grep -q "$pattern" "$work/out" || fail "$what: no message '$pattern'; $(tail -5 "$work/out")"
    echo "mpi: $what ends the job in $((SECONDS - start)) s: $(grep -m1 "$pattern" "$work/out")"
}
ends "ranks that disagree" "ranks disagree on the configuration" -np 2 "$check" agree
ends "a rank that throws" "rank 1 of 2: the check's deliberate failure" -np 2 "$check" fail

# SIGKILL one rank of a job waiting in barriers: mpirun must notice and end the others within 10 s.
timeout 60 "${mpi[@]}" -np 2 "$check" wait "$work" > "$work/killed" 2>&1 &
job=$!
for _ in $(seq 100); do [ -s "$work/rank-1.pid" ] && break; sleep 0.1; done
[ -s "$work/rank-1.pid" ] || fail "the waiting job did not start"
kill -9 "$(cat "$work/rank-1.pid")"
killed=$SECONDS status=0
for _ in $(seq 100); do kill -0 "$job" 2> /dev/null || break; sleep 0.1; done
kill -0 "$job" 2> /dev/null && fail "the job still runs 10 s after rank 1 was killed"
wait "$job" || status=$?
[ "$status" -ne 0 ] || fail "the job with a killed rank exited 0"
echo "mpi: SIGKILL of rank 1 ends the job in $((SECONDS - killed)) s (exit status $status)"
