"""What the PyTorch and JAX references share with StepBench: the rows, the timing loop, the BENCH line.

The rows are StepBench's (`StepBench --list`): bigan-cifar with theta2 = conv5 and conv4-5 at batch 128, ResNet18 at
112x112 with theta2 = layer4.1 at batch 32; for each, the frozen bottom's forward pass and one SGD step (momentum 0.9,
weight decay 5e-5, softmax cross-entropy) of the activation, gradient, full GradFeat and fine-tuning models, from
cached activations z0 or from images (then the step includes the bottom's forward pass). Batch norm is folded into
the convolutions (conv with bias), as GradFeat folds it before linearizing.
"""
import argparse
import os
import resource
import statistics
import time

BIGAN = [  # name, in, out, kernel, stride
    ("conv1", 3, 32, 5, 1), ("conv2", 32, 64, 4, 2), ("conv3", 64, 128, 4, 1),
    ("conv4", 128, 256, 4, 2), ("conv5", 256, 512, 4, 1),
]

# model, theta2 label, split (first theta2 layer), linearized layers, batch, input size, classes
CONFIGS = [
    ("bigan-cifar", "conv5", "conv5", ["conv5"], 128, 32, 10),
    ("bigan-cifar", "conv4-5", "conv4", ["conv4", "conv5"], 128, 32, 10),
    ("resnet18", "layer4.1", "layer4.1", ["layer4.1"], 32, 112, 20),
]
KINDS = ["activation", "gradient", "full", "finetune"]


def rows():
    out = []
    for model, theta2, split, lin, batch, size, classes in CONFIGS:
        base = dict(model=model, theta2=theta2, split=split, linearize=lin, batch=batch, input=size, classes=classes)
        out.append(dict(base, kind="bottom", cached=False))
        for cached in (True, False):
            for kind in KINDS:
                out.append(dict(base, kind=kind, cached=cached))
    return out


def row_id(r):
    return f"{r['model']}/{r['theta2']}/{r['kind']}/{'cached' if r['cached'] else 'images'}"


def find_row(ident):
    for r in rows():
        if row_id(r) == ident:
            return r
    raise SystemExit(f"no row {ident!r}; rows are: {', '.join(row_id(r) for r in rows())}")


def ntk_scale(shape):
    """The NTK parametrization's factor (effective = factor * stored), as GradFeat's Parametrization.ntk."""
    return 0.1 ** 0.5 if len(shape) == 1 else (1.0 / shape[0]) ** 0.5


def memory_mb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return float(line.split()[1]) / 1024
    return 0.0


def time_steps(body, min_seconds, min_steps=5, warmup=2):
    for _ in range(warmup):
        body()
    times = []
    start = time.perf_counter()
    while len(times) < min_steps or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        body()
        times.append(time.perf_counter() - t0)
    return statistics.median_low(times), len(times)


def line(framework, r, seconds, steps, rss_before):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    fields = (f"model={r['model']} theta2={r['theta2']} mode={r['kind']} cached={'true' if r['cached'] else 'false'} "
              f"batch={r['batch']}" + ("" if r["input"] == 32 else f" input={r['input']}"))
    return (f"BENCH framework={framework} {fields} img_per_s={r['batch'] / seconds:.0f} peak_mb={peak:.0f} "
            f"delta_mb={max(0.0, peak - rss_before):.0f} step_ms={seconds * 1e3:.2f} steps={steps}")


def arguments():
    p = argparse.ArgumentParser()
    p.add_argument("--row", help="row id (see --list)")
    p.add_argument("--list", action="store_true")
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    a = p.parse_args()
    if a.list:
        for r in rows():
            print(row_id(r))
        raise SystemExit(0)
    if not a.row:
        p.error("--row or --list")
    return a
