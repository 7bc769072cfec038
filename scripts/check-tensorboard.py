#!/usr/bin/env python3
"""Checks a GradFeat run folder's TensorBoard event files with TensorBoard's own reader.

For every model in RUN/tensorboard/<model>/, TensorBoard's EventAccumulator must find the scalars
train/loss and train/lr (solver/objective for a full-batch solver), test/<metric> and test/loss, at the iterations of RUN/metrics.csv and equal to its values
(to float32 precision). Needs `pip install tensorboard`; not used by GradFeat at run time.

    python3 scripts/check-tensorboard.py RUN
"""
import csv
import math
import sys
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def main(run: Path) -> int:
    rows = list(csv.DictReader(open(run / "metrics.csv")))
    metric = next(k for k in rows[0] if k.startswith("test_") and k != "test_loss")
    failures = 0
    for model in sorted({r["model"] for r in rows}):
        accumulator = EventAccumulator(str(run / "tensorboard" / model))
        accumulator.Reload()
        tags = accumulator.Tags()["scalars"]
        expected = [r for r in rows if r["model"] == model]
        solver = "solver/objective" in tags  # a full-batch solver: its training loss is the objective, no rate
        pairs = [("solver/objective" if solver else "train/loss", "train_loss")] + \
            ([] if solver else [("train/lr", "learning_rate")]) + \
            [("test/" + metric[len("test_"):], metric), ("test/loss", "test_loss")]
        for tag, column in pairs:
            if tag not in tags:
                print(f"{model}: no {tag} (tags: {tags})")
                failures += 1
                continue
            found = {e.step: e.value for e in accumulator.Scalars(tag)}
            for r in expected:
                if r[column] == "":
                    continue
                step, want = int(r["iteration"]), float(r[column])
                got = found.get(step)
                if got is None or not math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-7):
                    print(f"{model} {tag} at {step}: TensorBoard reads {got}, metrics.csv holds {want}")
                    failures += 1
        print(f"{model}: {len(tags)} scalar tags, {len(expected)} evaluations checked")
    print("ok" if failures == 0 else f"{failures} mismatches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
