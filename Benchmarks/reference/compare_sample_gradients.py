"""Runs SampleGradientBench and torch_sample_gradients.py alternately on each mode and prints the ratios.

    python Benchmarks/reference/compare_sample_gradients.py [--rounds 3] [--seconds 2] [--threads 2] [--batch 128]
        [--projection 4096] [--samplebench PATH]

Modes: `gradients` (exact per-sample gradients: ours GradientRows, PyTorch torch.func.vmap(grad)), `projection`
(the projection alone: ours from the layer's factors, PyTorch from vmap's per-sample gradients), `projected`
(both, end to end). PyTorch's `factored` mode (one batched backward pass, then the projection from the factors, as
a PyTorch user who knows the layer writes it) is shown beside ours `projected`. Each cell is the median of the
rounds; the order of the two frameworks alternates from round to round. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are
left for ours and removed for Python (as compare.py does).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
p = argparse.ArgumentParser()
p.add_argument("--rounds", type=int, default=3)
p.add_argument("--seconds", type=float, default=2.0)
p.add_argument("--threads", type=int, default=os.cpu_count())
p.add_argument("--batch", type=int, default=128)
p.add_argument("--projection", type=int, default=4096)
p.add_argument("--samplebench", default=os.path.join(root, ".build-bench", "release", "SampleGradientBench"))
p.add_argument("--python", default=sys.executable)
a = p.parse_args()

python_env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
ours_env = dict(os.environ, OPENBLAS_NUM_THREADS=str(a.threads))
common_args = ["--batch", str(a.batch), "--projection", str(a.projection), "--seconds", str(a.seconds)]


def run(cmd, env):
    out = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = [l for l in out.stdout.splitlines() if l.startswith("BENCH ")]
    if out.returncode != 0 or not lines:
        sys.exit(f"failed ({out.returncode}): {' '.join(cmd)}\n{out.stderr[-2000:]}")
    print(lines[-1], flush=True)
    return float(re.search(r"img_per_s=(\S+)", lines[-1]).group(1))


def ours(mode):
    return run([a.samplebench, "--mode", mode] + common_args, ours_env)


def torch(mode):
    return run([a.python, os.path.join(here, "torch_sample_gradients.py"), "--mode", mode, "--threads",
                str(a.threads)] + common_args, python_env)


pairs = [("gradients", "gradients"), ("projection", "projection"), ("projected", "projected"),
         ("projected", "factored")]
cells = {pair: ([], []) for pair in pairs}
for turn in range(a.rounds):
    for index, (mine, theirs) in enumerate(pairs):
        first_ours = (turn + index) % 2 == 0
        for side in ((0, 1) if first_ours else (1, 0)):
            cells[(mine, theirs)][side].append(ours(mine) if side == 0 else torch(theirs))

print(f"\nbigan-cifar conv5 (|θ2| = 2,097,664), batch {a.batch}, K = {a.projection}, threads {a.threads}; "
      f"median of {a.rounds} round(s)")
print("| ours | img/s | PyTorch | img/s | ours/PyTorch |")
print("|---|---|---|---|---|")
for (mine, theirs), (ours_runs, torch_runs) in cells.items():
    o, t = statistics.median_low(ours_runs), statistics.median_low(torch_runs)
    print(f"| {mine} | {o:.0f} | {theirs} | {t:.0f} | {o / t:.1f}x |")
