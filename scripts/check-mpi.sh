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

# The command line: `gradfeat train` in one process (one worker) and under mpirun -np 2 and 3 write the same
# checkpoints, bit for bit; a run of 20 iterations on 2 ranks resumed to 30 on 3 ranks ends where the 30 did.
gradfeat=.build/release/gradfeat
data=${GRADFEAT_DATA_DIR:-../shared/datasets}
if [ -d "$data/cifar10" ]; then
    train=(train --model bigan-cifar --dataset cifar10 --data-dir "$data" --train-size 300 --test-size 100
           --extractor activation,gradfeat,finetune --linearize conv5 --micro-batches 6 --seed 1 --quiet)
    same() {
        for model in activation gradfeat finetune; do
            h5diff -q "$1/$model.h5" "$2/$model.h5" /parameters || fail "$3: $model's parameters differ"
            h5diff -q "$1/$model.h5" "$2/$model.h5" /optimizer || fail "$3: $model's optimiser state differs"
        done
    }
    GRADFEAT_WORKERS=1 "$gradfeat" "${train[@]}" --niter 30 --output "$work/one" > /dev/null
    for n in 2 3; do
        timeout 300 "${mpi[@]}" -x GRADFEAT_WORKERS=1 -np "$n" "$gradfeat" "${train[@]}" --niter 30 \
            --output "$work/np$n" > /dev/null
        same "$work/one" "$work/np$n" "-np $n"
    done
    # Resumed: fine-tuning alone (a gradient model trained after the activation model would take ω̄ from an
    # activation model extended to 30 iterations, not the one at 20 its checkpoint saw).
    GRADFEAT_WORKERS=1 "$gradfeat" "${train[@]}" --extractor finetune --niter 30 --output "$work/straight" > /dev/null
    timeout 300 "${mpi[@]}" -x GRADFEAT_WORKERS=1 -np 2 "$gradfeat" "${train[@]}" --extractor finetune --niter 20 \
        --output "$work/resumed" > /dev/null
    timeout 300 "${mpi[@]}" -x GRADFEAT_WORKERS=1 -np 3 "$gradfeat" "${train[@]}" --extractor finetune --niter 30 \
        --resume --output "$work/resumed" > /dev/null
    h5diff -q "$work/straight/finetune.h5" "$work/resumed/finetune.h5" /parameters \
        || fail "fine-tuning for 20 iterations on 2 ranks resumed to 30 on 3 differs from 30 in one process"
    ls "$work"/np2/*.tmp-* > /dev/null 2>&1 && fail "-np 2 left a half-written file"
    echo "mpi: gradfeat train (3 models, 30 iterations, 6 micro-batches): the same checkpoints from one process," \
        "-np 2 and -np 3; fine-tuning on 2 ranks resumed on 3 ends where one process does"
else
    echo "mpi: $data/cifar10 missing; the gradfeat train checks need the shared data (GRADFEAT_DATA_DIR)"
    exit 1
fi

# A command that does not share its work yet is refused under mpirun rather than run twice.
timeout 60 "${mpi[@]}" -np 2 "$gradfeat" eval --run "$work/one" > "$work/eval.log" 2>&1 \
    && fail "gradfeat eval ran under mpirun"
grep -q "runs in one process; under mpirun only" "$work/eval.log" || fail "eval under mpirun: $(tail -3 "$work/eval.log")"
echo "mpi: gradfeat eval under mpirun is refused with a message"

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

# SIGKILL of a rank of `gradfeat train` mid-run: the job ends within 10 s with a message, and every file left under
# its final name is whole (writes go to <name>.tmp-<pid> and are renamed when complete).
timeout 120 "${mpi[@]}" -x GRADFEAT_WORKERS=1 -np 2 "$gradfeat" "${train[@]}" --niter 100000 --checkpoint-every 50 \
    --output "$work/train-killed" > "$work/train-killed.log" 2>&1 &
job=$!
rank1=""
for _ in $(seq 300); do
    for p in $(pgrep -f -- "--output $work/train-killed" || true); do
        tr '\0' '\n' < "/proc/$p/environ" 2> /dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1" && rank1=$p
    done
    [ -n "$rank1" ] && [ -e "$work/train-killed/activation.h5" ] && break
    sleep 0.1
done
[ -n "$rank1" ] && [ -e "$work/train-killed/activation.h5" ] || fail "gradfeat train under mpirun did not reach a checkpoint"
kill -9 "$rank1"
killed=$SECONDS status=0
for _ in $(seq 100); do kill -0 "$job" 2> /dev/null || break; sleep 0.1; done
kill -0 "$job" 2> /dev/null && fail "gradfeat train still runs 10 s after rank 1 was killed"
wait "$job" || status=$?
[ "$status" -ne 0 ] || fail "gradfeat train with a killed rank exited 0"
grep -q "rank 1" "$work/train-killed.log" || fail "no message names the killed rank: $(tail -3 "$work/train-killed.log")"
for file in "$work"/train-killed/*.h5; do h5ls "$file" > /dev/null || fail "$file is damaged"; done
echo "mpi: SIGKILL of rank 1 of gradfeat train ends the job in $((SECONDS - killed)) s; its files are whole"
