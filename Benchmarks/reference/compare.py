"""Runs StepBench, PyTorch and JAX side by side on every row, alternating them in one run, and prints the ratios.

    python Benchmarks/reference/compare.py [--filter TEXT] [--seconds 2] [--threads N] [--stepbench PATH]
                                           [--frameworks torch,jax] [--python PATH]
    python Benchmarks/reference/compare.py --from-log RUN.log     # the table of BENCH lines printed earlier

Each row runs ours first, then PyTorch, then JAX (the order rotates from row to row so that none always runs
right after another), each in a fresh process so peak memory is per row and per framework. OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE, if set, are left for StepBench and removed for the Python processes only (numpy/torch bundle
their own BLAS and some builds reject a core type they do not know). Prints every BENCH line, then a Markdown
table with img/s of each and the ratios ours/theirs, and the sgemm rate measured by StepBench before and after.
"""
import argparse
import os
import re
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
sys.path.insert(0, here)
import common  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--filter", default="")
p.add_argument("--seconds", type=float, default=2.0)
p.add_argument("--threads", type=int, default=os.cpu_count())
p.add_argument("--stepbench", default=os.path.join(root, ".build-bench", "release", "StepBench"))
p.add_argument("--frameworks", default="torch,jax")
p.add_argument("--python", default=sys.executable)
p.add_argument("--rounds", type=int, default=1, help="repeat every row this many times; the table shows medians")
p.add_argument("--from-log", help="tabulate the BENCH lines of an earlier (possibly interrupted) run instead of running")
a = p.parse_args()

python_env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
ours_env = dict(os.environ, OPENBLAS_NUM_THREADS=str(a.threads))


def run(cmd, env):
    out = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = [l for l in out.stdout.splitlines() if l.startswith("BENCH ") and ("img_per_s=" in l or "kind=sgemm" in l)]
    if out.returncode != 0 or not lines:
        sys.stderr.write(f"failed ({out.returncode}): {' '.join(cmd)}\n{out.stderr[-2000:]}\n")
        return None
    print(lines[-1], flush=True)
    return lines[-1]


def field(line, name):
    m = re.search(rf"\b{name}=(\S+)", line or "")
    return float(m.group(1)) if m else None


frameworks = [f for f in a.frameworks.split(",") if f]
order = ["ours"] + frameworks
selected = [common.row_id(r) for r in common.rows() if a.filter in common.row_id(r)]
runs = {ident: {name: [] for name in order} for ident in selected}


def line_id(line):
    """The row id and framework of a BENCH line (no framework field: ours)."""
    fields = dict(re.findall(r"(\w+)=(\S+)", line))
    cached = "cached" if fields.get("cached") == "true" else "images"
    return f"{fields.get('model')}/{fields.get('theta2')}/{fields.get('mode')}/{cached}", fields.get("framework", "ours")


if a.from_log:
    lines = [l.strip() for l in open(a.from_log)
             if l.startswith("BENCH ") and ("img_per_s=" in l or "kind=sgemm" in l)]
    sgemm_lines = [l for l in lines if "kind=sgemm" in l]
    sgemm_before = sgemm_lines[0] if sgemm_lines else None
    sgemm_after = sgemm_lines[-1] if len(sgemm_lines) > 1 else None
    a.rounds = "the logged"
    for line in lines:
        ident, name = line_id(line)
        if ident in runs and name in runs[ident]:
            runs[ident][name].append(line)
else:
    sgemm_before = run([a.stepbench, "--sgemm"], ours_env)
    runners = {
        "ours": lambda r: run([a.stepbench, "--seconds", str(a.seconds), "--row", r], ours_env),
        "torch": lambda r: run([a.python, os.path.join(here, "torch_steps.py"), "--row", r, "--seconds",
                                str(a.seconds), "--threads", str(a.threads)], python_env),
        "jax": lambda r: run([a.python, os.path.join(here, "jax_steps.py"), "--row", r, "--seconds",
                              str(a.seconds), "--threads", str(a.threads)], python_env),
    }
    turn = 0
    for _ in range(a.rounds):
        for ident in selected:
            for name in order[turn % len(order):] + order[:turn % len(order)]:
                line = runners[name](ident)
                if line:
                    runs[ident][name].append(line)
            turn += 1
    sgemm_after = run([a.stepbench, "--sgemm"], ours_env)


def median_line(lines):
    """The run with the median img/s (the lower middle one for an even count)."""
    if not lines:
        return None
    ranked = sorted(lines, key=lambda l: field(l, "img_per_s"))
    return ranked[(len(ranked) - 1) // 2]


results = [(ident, {name: median_line(runs[ident][name]) for name in order}) for ident in selected]

print()
print(f"sgemm (StepBench, same run): {field(sgemm_before, 'gflops')} GFLOP/s before, "
      f"{field(sgemm_after, 'gflops')} after; threads {a.threads}; median of {a.rounds} round(s) per cell")
head = "| row | ours img/s | ours GFLOP/s | ours % sgemm | ours peak MB |"
rule = "|---|---|---|---|---|"
for f in frameworks:
    head += f" {f} img/s | {f} peak MB | ours/{f} |"
    rule += "---|---|---|"
print(head)
print(rule)
# The better of the two sgemm readings: the machine's rate in this run (a conservative denominator for "% sgemm").
sgemm = max((x for x in (field(sgemm_before, "gflops"), field(sgemm_after, "gflops")) if x), default=None)
for ident, lines in results:
    ours = field(lines["ours"], "img_per_s")
    gf = field(lines["ours"], "gflops")
    pct = f"{100 * gf / sgemm:.0f}%" if gf and sgemm else "-"
    cells = [ident, f"{ours:.0f}" if ours else "-", f"{gf:.1f}" if gf else "-", pct,
             f"{field(lines['ours'], 'peak_mb'):.0f}" if ours else "-"]
    for f in frameworks:
        theirs = field(lines[f], "img_per_s")
        cells += [f"{theirs:.0f}" if theirs else "-",
                  f"{field(lines[f], 'peak_mb'):.0f}" if theirs else "-",
                  f"{ours / theirs:.2f}x" if ours and theirs else "-"]
    print("| " + " | ".join(cells) + " |")
