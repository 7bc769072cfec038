"""Helpers of scripts/check-cg-ridge.sh: read HDF5 through h5dump (no h5py needed), solve ridge regression.

  check_cg_ridge.py WORK λ     ridge on WORK/features-train.h5, compared with WORK/predictions.h5
"""
import re
import subprocess
import sys
import tempfile

import numpy as np


def read(path, dataset, dtype):
    """The dataset as a numpy array, through h5dump's binary output."""
    header = subprocess.run(["h5dump", "-H", "-d", dataset, path], capture_output=True, text=True, check=True).stdout
    dims = re.search(r"DATASPACE\s+SIMPLE\s+\{\s*\(\s*([0-9, ]+)\)", header)
    shape = tuple(int(d) for d in dims.group(1).split(","))
    with tempfile.NamedTemporaryFile() as raw:
        subprocess.run(["h5dump", "-d", dataset, "-b", "LE", "-o", raw.name, path], capture_output=True, check=True)
        return np.fromfile(raw.name, dtype=dtype).reshape(shape)


def compare(work, lam):
    lam = float(lam)
    f_train = read(f"{work}/features-train.h5", "/features", "<f4").astype(np.float64)
    labels = read(f"{work}/features-train.h5", "/labels", "<i8")
    f_test = read(f"{work}/features-test.h5", "/features", "<f4").astype(np.float64)
    predicted = read(f"{work}/predictions.h5", "/logits", "<f4").astype(np.float64)
    n, d = f_train.shape
    classes = predicted.shape[1]
    x = np.hstack([f_train, np.ones((n, 1))])
    y = np.eye(classes)[labels]
    # L(w) = 1/(2N) ‖X w − Y‖² + λ/2 ‖w‖² (the bias regularised too, as GradFeat's weight decay does).
    w = np.linalg.solve(x.T @ x / n + lam * np.eye(d + 1), x.T @ y / n)
    expected = np.hstack([f_test, np.ones((f_test.shape[0], 1))]) @ w
    error = np.linalg.norm(predicted - expected) / np.linalg.norm(expected)
    accuracy = lambda z: float((z.argmax(1) == read(f"{work}/features-test.h5", "/labels", "<i8")).mean())
    print(f"ridge (numpy, Float64) vs gradfeat --solver cg: relative error of the test logits {error:.2e} "
          f"(N = {n}, d = {d}, λ = {lam}); test accuracy {100 * accuracy(predicted):.2f}% vs {100 * accuracy(expected):.2f}%")
    if not error < 1e-3:
        raise SystemExit(f"FAILED: relative error {error:.2e} is not below 1e-3")


if __name__ == "__main__":
    compare(*sys.argv[1:3])
